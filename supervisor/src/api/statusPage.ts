/**
 * A minimal status page until the full UI lands: login, then the route in large
 * type, the reasons and every subsystem, live over the WebSocket. It carries no
 * data itself; everything comes from the authenticated API.
 */
export function statusPage(): string {
  return `<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vaktpost</title>
<style>
 body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;background:#fff;color:#111}
 #route{font-size:3rem;font-weight:700;padding:1rem;border:4px solid #000;margin:1rem 0}
 .local{background:#e6f0ff}.backup{background:#fff0d6}.stale{background:#ddd;color:#555}
 table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ccc;text-align:left}
 .ok::before{content:"✔ "}.warn::before{content:"▲ "}.fail::before{content:"✖ "}.unknown::before{content:"? "}
 #conn{font-weight:700}
</style></head><body>
<h1>Vaktpost</h1>
<form id="login" hidden><label>Brukernavn / Username <input name="username" autocomplete="username"></label>
<label>Passord / Password <input name="password" type="password" autocomplete="current-password"></label>
<button>Logg inn / Log in</button> <span id="err" role="alert"></span></form>
<main id="main" hidden>
<p id="conn" role="status">Kobler til… / Connecting…</p>
<div id="route" aria-live="polite">?</div>
<ul id="reasons"></ul>
<h2>Delsystemer / Subsystems</h2><table id="subs"></table>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
let snap = null;
function render(){
  if(!snap) return;
  const r = $('route');
  r.textContent = (snap.route === 'local' ? 'Anrop går til LOKAL sentral / Calls go to LOCAL centre' : 'Anrop går til RESERVESENTRAL / Calls go to BACKUP centre') + ' — ' + snap.mode;
  r.className = snap.route;
  $('reasons').innerHTML = '';
  for (const x of snap.reasons){ const li=document.createElement('li'); li.textContent = x.nb + ' / ' + x.en; $('reasons').append(li); }
  $('subs').innerHTML = '';
  for (const [k,h] of Object.entries(snap.health)){ const tr=document.createElement('tr'); tr.innerHTML='<th></th><td></td><td></td>'; tr.children[0].textContent=k; tr.children[1].textContent=h.status; tr.children[1].className=h.status; tr.children[2].textContent=h.reasons.map(x=>x.en).join('; '); $('subs').append(tr); }
}
async function refresh(){ const res = await fetch('/api/status'); if(res.ok){ snap = await res.json(); render(); } }
function connect(){
  const ws = new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/api/live');
  ws.onmessage = async (ev) => { const m = JSON.parse(ev.data); $('conn').textContent='Tilkoblet / Live'; $('route').classList.remove('stale');
    if (m.type==='snapshot'){ snap=m.snapshot; render(); } else if (m.type==='decision' || m.type==='health'){ await refresh(); } };
  ws.onclose = () => { $('conn').textContent='Forbindelsen er brutt – visningen kan være utdatert / Connection lost – view may be stale'; $('route').className='stale'; setTimeout(connect, 2000); };
}
async function start(){
  const me = await fetch('/api/me');
  if (me.status === 401){ $('login').hidden=false; return; }
  $('main').hidden=false; connect();
}
$('login').onsubmit = async (e) => { e.preventDefault(); const f = new FormData(e.target);
  const res = await fetch('/api/login',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({username:f.get('username'),password:f.get('password')})});
  if(res.ok){ $('login').hidden=true; start(); } else { $('err').textContent=(await res.json()).error; } };
start();
</script></body></html>`;
}

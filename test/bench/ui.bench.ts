/**
 * Bench (web UI): how fast a change reaches an operator's screen, in Debian's
 * Chromium against the real supervisor process on the simulated box.
 *
 *  - ui.state_change_to_visible_ms: the supervisor decides a new route (its timestamp) →
 *    the route is painted in the page: the WebSocket and the UI's share. Goal: 1000 ms.
 *  - ui.fault_to_visible_ms / ui.power_fault_to_visible_ms: a simulated fault / restore is
 *    injected → painted (adds the monitor and the policy — for power the UPS poll: what an
 *    operator actually waits for).
 *  - ui.page_load_to_live_ms: navigation starts (logged in) → the live route is painted.
 *
 * Times are taken on the one wall clock of this machine (page: Date.now() at the
 * animation frame after the DOM changed). No peer runs here: there is no comparable
 * dashboard on this box to measure side by side, so `peer` is omitted.
 *
 *   npx tsx test/bench/ui.bench.ts        (UI_BENCH_TRIALS=15 by default, ~30 s)
 */
import { ensureUiBuilt, login, openBrowser } from '../e2e/helpers/browser.js';
import { installRouteWatch, paintedRoute, type RouteChange, WATCH_SCRIPT } from '../e2e/helpers/routeWatch.js';
import { liveClient, startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { percentiles, scratchDir } from '../helpers/util.js';

const TRIALS = Number(process.env.UI_BENCH_TRIALS ?? 15);
const PW = 'bench-admin-password-1';
const round = (x: number) => Math.round(x * 10) / 10;
/** The UPS monitor's default NUT poll, also on the simulated box. */
const UPS_POLL_MS = 500;

await ensureUiBuilt();
const { dir, cleanup } = await scratchDir('bench-ui');
const { file, port } = await writeSimConfig(dir, '', { failbackHoldS: 0, holdDownS: 0, tickMs: 100, reportMs: 200 });
const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: PW });
const b = await openBrowser();
try {
  await login(b.page, sup.url, 'admin', PW);
  await b.page.locator('[data-testid=route][data-route=local]').waitFor({ timeout: 10_000 });
  await installRouteWatch(b.page);
  const live = await liveClient(sup.url, sup.token());
  // Each route change is taken once, in order (the client buffers every message). The
  // decision's own timestamp is the supervisor's wall clock, the same clock the page reads.
  const used = new Set<unknown>();
  const decisionAt = async (route: string): Promise<number> => {
    const m = await live.next(
      (m) =>
        m.type === 'decision' &&
        !used.has(m) &&
        (m.decision as { routeChanged: boolean; route: string }).routeChanged &&
        (m.decision as { route: string }).route === route,
      10_000,
    );
    used.add(m);
    return (m.decision as { at: number }).at;
  };

  const faultToVisible: Record<string, number[]> = { centres: [], power: [] };
  const decisionToVisible: number[] = [];
  // Faults whose monitors have no flap damping (the WAN link state deliberately damps a
  // link that flaps, which a tight loop of wan-down/up would trip). The simulated monitor
  // reports a centre fault the moment the simulated box changes (its 200 ms period plays
  // no part); the UPS goes through the UPS monitor's own NUT poll (500 ms), so the power
  // figure includes up to one poll.
  const pairs = [
    [
      'centres',
      [
        ['local-centre-down', 'backup'],
        ['centres-restored', 'local'],
      ],
    ],
    [
      'power',
      [
        ['power-low-battery', 'backup'],
        ['power-restored', 'local'],
      ],
    ],
  ] as const;
  for (let i = 0; i < TRIALS; i++) {
    const [kind, steps] = pairs[i % pairs.length] ?? pairs[0];
    for (const [fault, route] of steps) {
      // A random phase over the whole UPS poll (500 ms), so trials do not phase-lock with it:
      // the old 50–300 ms pause covered only part of the poll, so a power fault, injected a
      // fixed time after the poll that reported the previous one, mostly waited out the rest.
      await new Promise((r) => setTimeout(r, 50 + Math.random() * UPS_POLL_MS));
      const t0 = Date.now();
      const onWs = decisionAt(route);
      const res = await sup.api('POST', '/api/sim/fault', { fault });
      if (res.status !== 200) throw new Error(`fault ${fault} refused: ${res.status}`);
      const painted: RouteChange = await paintedRoute(b.page, route, t0, 10_000);
      const decidedAt = await onWs;
      faultToVisible[kind]?.push(painted.at - t0);
      decisionToVisible.push(painted.at - decidedAt);
    }
  }
  live.close();

  const loadToLive: number[] = [];
  await b.context.addInitScript(WATCH_SCRIPT);
  for (let i = 0; i < Math.max(5, Math.round(TRIALS / 2)); i++) {
    const t0 = Date.now();
    await b.page.goto(sup.url);
    const painted = await paintedRoute(b.page, 'local', t0, 10_000);
    loadToLive.push(painted.at - t0);
  }

  const line = (name: string, xs: number[], goal: number, note: string) => {
    const p = percentiles(xs);
    console.log(
      JSON.stringify({
        name,
        value: round(p.median),
        unit: 'ms',
        goal,
        better: 'lower',
        p95: round(p.p95),
        min: round(p.min),
        max: round(p.max),
        n: xs.length,
        note,
      }),
    );
  };
  line('ui.state_change_to_visible_ms', decisionToVisible, 1000, 'route decision made in the supervisor → painted in Chromium (WebSocket + render)');
  line('ui.fault_to_visible_ms', faultToVisible.centres ?? [], 1000, 'simulated centre fault injected → painted (the simulated monitor reports it at once)');
  line('ui.power_fault_to_visible_ms', faultToVisible.power ?? [], 2000, 'simulated UPS low battery injected → painted (incl. the UPS monitor poll, 500 ms)');
  line('ui.page_load_to_live_ms', loadToLive, 1000, 'navigation (logged in) → live route painted');
  if (b.errors.length) console.error(`page errors: ${b.errors.join('; ')}`);
} finally {
  await b.close();
  await sup.kill('SIGKILL');
  await cleanup();
}

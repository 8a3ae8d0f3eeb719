/**
 * Chaos (acceptance 2): the data directory on a tmpfs that fills up. A fault still moves
 * the route, an alarm is raised (live, and `system.store` fails), the process stays up,
 * and the records kept in memory land in the store once space returns — the decision
 * with the signals behind it, in order, with the store's own alarm and all-clear.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir } from '../../helpers/util.js';

type Live = { type: string; [k: string]: unknown };

/** Fill the filesystem at `dir` to the last byte (dd stops with ENOSPC). */
function fill(file: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=64k'], { stdio: 'ignore' });
  spawnSync('sync');
}

t.test('data disk full: the route still moves, an alarm is raised, the records land when space returns', async (t) => {
  const { dir, cleanup } = await scratchDir('chaos-diskfull');
  t.teardown(cleanup);
  const data = path.join(dir, 'data');
  mkdirSync(data);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', data], { encoding: 'utf8' });
  t.equal(mount.status, 0, `a 24 MB tmpfs for the data dir (mount: ${mount.stderr.trim() || 'ok'}; the test needs root)`);
  t.teardown(() => spawnSync('umount', ['-l', data]));

  const { file, port } = await writeSimConfig(dir, '', { holdDownS: 1 });
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const live = await liveClient(sup.url, sup.token());
  t.teardown(() => live.close());
  await live.next((m) => m.type === 'snapshot', 30_000);
  const after = (i: number, pred: (m: Live) => boolean) => (m: Live) => live.messages.indexOf(m) >= i && pred(m);
  const event = (kind: string) => (m: Live) => m.type === 'event' && (m.event as { kind: string }).kind === kind;

  // Empty the WAL (its pages would otherwise be reused without new disk blocks), then
  // fill the disk: the supervisor's next commit needs space it cannot get.
  const db = new Database(path.join(data, 'vaktpost.db'));
  db.pragma('busy_timeout = 5000');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const filler = path.join(data, 'filler');
  fill(filler);

  const i0 = live.messages.length;
  const t0 = performance.now();
  await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
  const change = await live.next(
    after(i0, (m) => m.type === 'decision' && (m.decision as { routeChanged: boolean }).routeChanged),
    30_000,
  );
  const routeMs = performance.now() - t0;
  const decision = change.decision as { id: number; route: string };
  t.equal(decision.route, 'backup', 'the fault still moves the route');
  await live.next(after(i0, event('store.unwritable')), 30_000);
  t.pass('store.unwritable is raised on the live channel');
  const st = await sup.api<{ route: string; signals: Array<{ key: string; status: string; detail?: string }> }>('GET', '/api/status');
  t.equal(st.status, 200, 'the API answers with the disk full');
  t.equal(st.json.route, 'backup', 'status says backup');
  const storeSig = st.json.signals.find((s) => s.key === 'system.store');
  t.equal(storeSig?.status, 'fail', `system.store fails (${storeSig?.detail})`);
  t.match(sup.output(), /the store cannot write/, 'a log line says so');
  t.comment(`fault → route change on the live channel ${Math.round(routeMs)} ms with the data disk full; decision id ${decision.id} (provisional while < 0)`);

  // Space returns: everything kept in memory is written, in order.
  const i1 = live.messages.length;
  rmSync(filler);
  await live.next(after(i1, event('store.recovered')), 30_000);
  t.pass('store.recovered once space returned');
  t.equal(sup.child.exitCode, null, 'the process stayed up throughout');

  const ro = new Database(path.join(data, 'vaktpost.db'), { readonly: true });
  t.teardown(() => ro.close());
  t.equal(ro.pragma('integrity_check', { simple: true }), 'ok', 'integrity_check ok');
  const changes = ro.prepare(`SELECT id, route, signals_json FROM decisions WHERE route_changed = 1 ORDER BY id`).all() as Array<{
    id: number;
    route: string;
    signals_json: string;
  }>;
  const last = changes[changes.length - 1];
  t.equal(last?.route, 'backup', 'the route change written while the disk was full is in the store');
  t.ok((JSON.parse(last?.signals_json ?? '[]') as unknown[]).length > 0, 'with the signals behind it');
  const kinds = (ro.prepare(`SELECT kind FROM events ORDER BY id`).all() as Array<{ kind: string }>).map((e) => e.kind);
  const iu = kinds.lastIndexOf('store.unwritable');
  const ir = kinds.lastIndexOf('store.recovered');
  const ic = kinds.lastIndexOf('route.changed');
  t.ok(iu >= 0 && ir > iu, 'the alarm and the all-clear are both in the store, in order');
  t.ok(ic >= 0, 'the route.changed event is in the store');
  const actions = ro.prepare(`SELECT decision_id FROM actions WHERE decision_id = ?`).all(last?.id) as unknown[];
  t.ok(actions.length > 0, 'the actuator result refers to the decision by its real id');
  writeFileSync(path.join(dir, 'done'), '');
});

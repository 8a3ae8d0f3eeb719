/**
 * `vaktpost run` with operational evidence wired in, as a separate process the
 * evidence tests can SIGKILL: the real composition root (startApp) plus the
 * EvidenceService and its routes, wired the way app.ts will wire them (see the
 * issue #10 report). Because app.ts is not ours to edit yet, the evidence
 * routes are served by a second instance of the real API (same store, same
 * accounts and sessions) on its own port.
 *
 *   node --import tsx runner.ts <vaktpost.yaml> <evidence.json> <evidence-api-port>
 *
 * Prints "EVIDENCE READY <port>" when both APIs listen.
 */
import { readFileSync } from 'node:fs';
import { Accounts, LoginThrottle } from '../../../supervisor/src/api/auth.js';
import { registerEvidenceRoutes } from '../../../supervisor/src/api/evidenceRoutes.js';
import { buildApi } from '../../../supervisor/src/api/server.js';
import { startApp } from '../../../supervisor/src/app.js';
import { evidenceSchema } from '../../../supervisor/src/config/evidence.js';
import { loadConfigFile } from '../../../supervisor/src/config/load.js';
import { EvidenceService } from '../../../supervisor/src/evidence/service.js';
import { evidenceDeps } from '../../../supervisor/src/evidence/wiring.js';
import { Drill } from '../../../supervisor/src/jobs/drill.js';
import { createLogger } from '../../../supervisor/src/log.js';

const [file, evFile, portText] = process.argv.slice(2);
if (!file || !evFile || !portText) throw new Error('usage: runner.ts <vaktpost.yaml> <evidence.json> <evidence-api-port>');
const cfg = loadConfigFile(file);
const evidenceCfg = evidenceSchema.parse(JSON.parse(readFileSync(evFile, 'utf8')));
const log = createLogger(process.env.VAKTPOST_LOG_LEVEL ?? 'warn');
const now = () => Date.now();

const app = await startApp(cfg, { log });
// Once app.ts wires evidence itself (config `evidence:`, routes on its own API), use that.
if ((app as unknown as { evidence?: unknown }).evidence !== undefined) {
  process.stdout.write(`EVIDENCE READY ${cfg.api.port}\n`);
  const stopWired = async () => {
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stopWired());
  process.on('SIGINT', () => void stopWired());
} else {
  await serveEvidence();
}

async function serveEvidence(): Promise<void> {
  const evidence = new EvidenceService(
    evidenceDeps({ box: cfg.box, calls: cfg.calls, evidence: evidenceCfg, db: app.store.db, supervisor: app.supervisor, now, log }),
  );
  await evidence.start();

  const api = await buildApi({
    drill: new Drill(app.supervisor, [], { now, stepTimeoutMs: 1000 }),
    supervisor: app.supervisor,
    store: app.store,
    accounts: new Accounts(app.store.db, now),
    throttle: new LoginThrottle(now),
    sessionHours: 1,
    sim: app.sim,
    now,
    webDir: null,
  });
  registerEvidenceRoutes(api, { evidence, store: app.store, box: cfg.box.name, timeZone: evidenceCfg.timeZone, now });
  await api.listen({ host: '127.0.0.1', port: Number(portText) });
  process.stdout.write(`EVIDENCE READY ${portText}\n`);

  const stop = async () => {
    await api.close();
    await evidence.stop();
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

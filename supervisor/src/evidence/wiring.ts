/**
 * One call for the composition root: the EvidenceService's dependencies from
 * the validated config (box, calls, evidence sections) and the running parts.
 */
import type { CallsConfig } from '../config/calls.js';
import type { EvidenceConfig } from '../config/evidence.js';
import type { Logger } from '../log.js';
import { kamailioRpcFromConfig } from '../reconcilers/kamailio/controlSecret.js';
import type { Db } from '../store/db.js';
import type { EventSource, EvidenceServiceDeps } from './service.js';

export interface EvidenceWiringInput {
  box: { name: string; dataDir: string };
  calls: CallsConfig | undefined;
  evidence: EvidenceConfig;
  db: Db;
  supervisor: EventSource;
  now: () => number;
  log: Logger;
}

export function evidenceDeps(i: EvidenceWiringInput): EvidenceServiceDeps {
  const calls = i.calls;
  const records = calls?.callRecords.enabled ? calls.callRecords.dir : null;
  const rpc = calls ? kamailioRpcFromConfig(calls) : null;
  return {
    cfg: i.evidence,
    box: i.box.name,
    dataDir: i.box.dataDir,
    db: i.db,
    supervisor: i.supervisor,
    now: i.now,
    log: i.log,
    callRecordsDir: records,
    drill: calls?.drill.enabled ? { schedule: calls.drill.schedule } : null,
    ...(rpc && records
      ? {
          reopenCallRecords: async () => {
            await rpc.call('flatstore.k_rotate');
          },
        }
      : {}),
  };
}

/**
 * The shapes the API and the live channel send, taken from the server's own types
 * (type-only: nothing of the server is bundled), so the UI cannot drift from them.
 */
export type { AlarmRow, EventRow, SeriesPoint, StoredDecision, UserRow } from '../../src/store/store.js';
export type { LiveMessage, Snapshot } from '../../src/supervisor.js';
export type { Role, User } from '../../src/api/auth.js';
export type { SignalStatus, Subsystem } from '../../src/core/signal.js';
export type { EffectiveSignal } from '../../src/core/signalTable.js';
export type { Reason } from '../../src/core/reason.js';
export type { DrillResult } from '../../src/jobs/drill.js';
export type { ActuatorStatus } from '../../src/reconcilers/reconciler.js';
export type { RecordingRow } from '../../src/store/audiologStore.js';

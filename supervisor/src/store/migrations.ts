/**
 * Schema migrations, applied in order inside one transaction each; the version
 * is kept in PRAGMA user_version. Never edit a shipped migration: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the foundation
  `
  CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    mode TEXT NOT NULL,
    route TEXT NOT NULL CHECK (route IN ('local','backup')),
    previous_mode TEXT NOT NULL,
    previous_route TEXT NOT NULL,
    route_changed INTEGER NOT NULL,
    reasons_json TEXT NOT NULL,
    override_json TEXT,
    decided_by TEXT NOT NULL,
    signals_json TEXT NOT NULL
  );
  CREATE INDEX decisions_at ON decisions(at);
  CREATE VIEW route_changes AS
    SELECT id AS decision_id, at, previous_route AS from_route, route AS to_route, reasons_json, decided_by
    FROM decisions WHERE route_changed = 1;

  CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    decision_id INTEGER REFERENCES decisions(id),
    actuator TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL,
    duration_ms REAL
  );
  CREATE INDEX actions_at ON actions(at);

  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info','warn','alarm')),
    subsystem TEXT,
    message_en TEXT NOT NULL,
    message_nb TEXT NOT NULL,
    actor TEXT,
    data_json TEXT
  );
  CREATE INDEX events_at ON events(at);
  CREATE INDEX events_kind ON events(kind);

  CREATE TABLE signal_samples (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    subsystem TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    value_json TEXT,
    unit TEXT,
    observed_at INTEGER NOT NULL,
    detail TEXT
  );
  CREATE INDEX signal_samples_key_at ON signal_samples(key, observed_at);

  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('operator','technician','admin')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // 2: alarm acknowledgements (web UI): who acknowledged which alarm event, when, and why.
  `
  CREATE TABLE event_acks (
    event_id INTEGER PRIMARY KEY REFERENCES events(id),
    at INTEGER NOT NULL,
    by TEXT NOT NULL,
    comment TEXT
  );
  CREATE INDEX events_severity_id ON events(severity, id);
  `,
  // flows: every deploy of the Node-RED flows, versioned (who, when, the diff), and the
  // dry-runs made before deploys. The store is the source of truth for what runs.
  `
  CREATE TABLE flow_versions (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('initial','deploy','rollback')),
    deploy_type TEXT,
    restored_from INTEGER REFERENCES flow_versions(id),
    flows_json TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    diff_json TEXT NOT NULL,
    rev TEXT,
    dry_run_id INTEGER,
    comment TEXT
  );
  CREATE INDEX flow_versions_at ON flow_versions(at);
  CREATE TABLE flow_dry_runs (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    candidate_sha256 TEXT NOT NULL,
    base_version INTEGER,
    window_from INTEGER NOT NULL,
    window_to INTEGER NOT NULL,
    differences INTEGER NOT NULL,
    report_json TEXT NOT NULL
  );
  CREATE INDEX flow_dry_runs_sha ON flow_dry_runs(candidate_sha256, id);
  -- the dry-run replays a day of samples in time order
  CREATE INDEX signal_samples_at ON signal_samples(observed_at, id);
  `,
];

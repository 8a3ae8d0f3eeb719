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
  // evidence (issue #10): Kamailio's call records, where their files were read up to,
  // when the supervisor was watching, the deviations register (T15), the duty log.
  `
  CREATE TABLE call_milestones (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    from_tag TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('arrived','answered','abandoned','rejected','ended')),
    at INTEGER NOT NULL,
    code INTEGER,
    role TEXT,
    caller TEXT,
    pai TEXT,
    called TEXT,
    probe INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    UNIQUE (call_id, from_tag, event)
  );
  CREATE INDEX call_milestones_event_at ON call_milestones(event, at);
  CREATE INDEX call_milestones_call ON call_milestones(call_id);
  CREATE TABLE call_record_files (
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    path TEXT NOT NULL,
    offset INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (dev, ino)
  );
  CREATE TABLE evidence_coverage (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
  );
  CREATE TABLE deviations (
    id INTEGER PRIMARY KEY,
    opened_at INTEGER NOT NULL,
    opened_by TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    subsystem TEXT,
    title_en TEXT NOT NULL,
    title_nb TEXT NOT NULL,
    first_event_id INTEGER REFERENCES events(id),
    last_event_at INTEGER NOT NULL,
    occurrences INTEGER NOT NULL DEFAULT 1,
    ack_at INTEGER,
    ack_by TEXT,
    ack_comment TEXT,
    closed_at INTEGER,
    closed_by TEXT,
    closed_comment TEXT
  );
  CREATE INDEX deviations_open_key ON deviations(key) WHERE closed_at IS NULL;
  CREATE INDEX deviations_opened_at ON deviations(opened_at);
  CREATE TABLE deviation_events (
    deviation_id INTEGER NOT NULL REFERENCES deviations(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (deviation_id, event_id)
  );
  CREATE TABLE duty_state (
    duty TEXT PRIMARY KEY,
    schedule TEXT NOT NULL,
    since INTEGER NOT NULL
  );
  CREATE TABLE duty_runs (
    id INTEGER PRIMARY KEY,
    duty TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('schedule','catch-up','manual','detected')),
    scheduled_for INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    data_json TEXT
  );
  CREATE INDEX duty_runs_duty_sched ON duty_runs(duty, scheduled_for);
  CREATE INDEX duty_runs_started ON duty_runs(started_at);
  CREATE TABLE daily_summaries (
    day TEXT PRIMARY KEY,
    computed_at INTEGER NOT NULL,
    figures_json TEXT NOT NULL
  );
  `,
  // audiolog (lydlogg, issue #7): the append-only hash-chained index of the audio log
  // (recordings, deletions, legal holds, accesses, calls without recording), the
  // recordings' current state, and Kamailio's connected calls matched against them.
  `
  CREATE TABLE audiolog_chain (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    recording_id TEXT,
    body_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audiolog_chain_recording ON audiolog_chain(recording_id, seq);
  CREATE INDEX audiolog_chain_kind ON audiolog_chain(kind, seq);
  -- Append-only for the application; a tamperer who drops these is caught by the chain.
  CREATE TRIGGER audiolog_chain_no_update BEFORE UPDATE ON audiolog_chain
    BEGIN SELECT RAISE(ABORT, 'audiolog_chain is append-only'); END;
  CREATE TRIGGER audiolog_chain_no_delete BEFORE DELETE ON audiolog_chain
    BEGIN SELECT RAISE(ABORT, 'audiolog_chain is append-only'); END;

  CREATE TABLE audiolog_recordings (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call','test')),
    status TEXT NOT NULL CHECK (status IN ('complete','incomplete','no-audio')),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    caller TEXT,
    called TEXT,
    route TEXT,
    centre TEXT,
    audio_ms INTEGER NOT NULL,
    connected_ms INTEGER,
    dir TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    chain_seq INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    hold_case TEXT,
    deleted_at INTEGER,
    summary_json TEXT NOT NULL
  );
  CREATE INDEX audiolog_recordings_call ON audiolog_recordings(call_id);
  CREATE INDEX audiolog_recordings_started ON audiolog_recordings(started_at);

  CREATE TABLE audiolog_calls (
    call_id TEXT PRIMARY KEY,
    connected_at INTEGER NOT NULL,
    ended_at INTEGER,
    caller TEXT,
    called TEXT,
    route TEXT,
    centre TEXT,
    offered INTEGER NOT NULL,
    test INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('active','ended','recorded','incomplete','missing','lost')),
    recording_id TEXT,
    decided_at INTEGER,
    detail TEXT
  );
  CREATE INDEX audiolog_calls_state ON audiolog_calls(state, connected_at);
  CREATE INDEX audiolog_calls_decided ON audiolog_calls(decided_at);
  `,
  // #17: a listening reason is health data, and every role reads the event log and the live
  // feed; earlier versions copied it into recording.access events. Taken out here — it stays
  // in the audio log's access record (admin only), which the event names by its entry number.
  `
  UPDATE events SET
    message_en = CASE WHEN instr(message_en, ': ') > 0 THEN substr(message_en, 1, instr(message_en, ': ') - 1)
                      ELSE coalesce(actor, '?') || ' accessed the audio log' END
                 || ' (reason in access record #' || coalesce(json_extract(data_json, '$.chainSeq'), '?') || ')',
    message_nb = CASE WHEN instr(message_nb, ': ') > 0 THEN substr(message_nb, 1, instr(message_nb, ': ') - 1)
                      ELSE coalesce(actor, '?') || ' brukte lydloggen' END
                 || ' (begrunnelsen står i tilgangsloggen, oppføring #' || coalesce(json_extract(data_json, '$.chainSeq'), '?') || ')',
    data_json = json_remove(data_json, '$.reason')
  WHERE kind = 'recording.access' AND json_valid(data_json) AND json_extract(data_json, '$.reason') IS NOT NULL;
  `,
  // login addresses (issue #17): where each user has logged in successfully from, so a
  // lockout caused by strangers' failures does not keep the user out from there.
  `
  CREATE TABLE login_addresses (
    user_id INTEGER NOT NULL REFERENCES users(id),
    address TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, address)
  );
  `,
  // issue #16: a recording of a one-way call (one side sent no audio at all) is faithful to the
  // wire but one-sided — its own status, not "complete". SQLite cannot change a CHECK in
  // place: the table is rebuilt with the same rows (nothing references it by foreign key).
  `
  CREATE TABLE audiolog_recordings_v2 (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call','test')),
    status TEXT NOT NULL CHECK (status IN ('complete','one-sided','incomplete','no-audio')),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    caller TEXT,
    called TEXT,
    route TEXT,
    centre TEXT,
    audio_ms INTEGER NOT NULL,
    connected_ms INTEGER,
    dir TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    chain_seq INTEGER NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    hold_case TEXT,
    deleted_at INTEGER,
    summary_json TEXT NOT NULL
  );
  INSERT INTO audiolog_recordings_v2 SELECT id, source, call_id, kind, status, started_at, ended_at, caller, called, route,
    centre, audio_ms, connected_ms, dir, bytes, chain_seq, held, hold_case, deleted_at, summary_json FROM audiolog_recordings;
  DROP TABLE audiolog_recordings;
  ALTER TABLE audiolog_recordings_v2 RENAME TO audiolog_recordings;
  CREATE INDEX audiolog_recordings_call ON audiolog_recordings(call_id);
  CREATE INDEX audiolog_recordings_started ON audiolog_recordings(started_at);
  `,
  // retention (issue #18): deleting old decisions and events makes SQLite look up the rows
  // that refer to them (foreign keys); without these indexes each delete scans the table.
  `
  CREATE INDEX actions_decision ON actions(decision_id);
  CREATE INDEX deviations_first_event ON deviations(first_event_id);
  `,
];

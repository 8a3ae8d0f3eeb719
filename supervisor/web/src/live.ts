/**
 * The live picture of the box: a snapshot from /api/live, then deltas applied in
 * order. The connection reconnects by itself. While it is down the state says so
 * (`conn` is not `live`), and every view must then show statuses as unknown: a
 * stale "OK" must never look current. A watchdog treats silence as loss (the
 * server sends a ping every 5 s), because a half-open TCP connection sends no close.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import type { AlarmRow, EventRow, LiveMessage, Snapshot } from './wire.js';

export type ConnState = 'connecting' | 'live' | 'lost';

export interface LiveState {
  conn: ConnState;
  /** Last snapshot with every delta applied; kept while lost only to say "last known". */
  snap: Snapshot | null;
  /** Server clock minus browser clock (ms), from the last snapshot. */
  clockSkewMs: number;
  lostSince: number | null;
  /** Unacknowledged alarms, newest first. */
  alarms: AlarmRow[];
  openAlarms: number;
  /** Events seen live since the page loaded, newest first (bounded). */
  recent: EventRow[];
  /** Bumped on every change, for cheap memo keys. */
  version: number;
}

const SILENCE_MS = 12_000;
const MAX_RECENT = 300;

type LiveEvent = Extract<LiveMessage, { type: 'event' }>['event'];

function toRow(e: LiveEvent): EventRow {
  return {
    id: e.id,
    at: e.at,
    kind: e.kind,
    severity: e.severity,
    subsystem: e.subsystem ?? null,
    en: e.en,
    nb: e.nb,
    actor: e.actor ?? null,
    data: e.data ?? null,
  };
}

/** Applies one delta to the snapshot (pure, so the rules are easy to read). */
export function applyDelta(snap: Snapshot, m: LiveMessage): Snapshot {
  switch (m.type) {
    case 'signal': {
      const signals = snap.signals.filter((s) => s.key !== m.signal.key);
      signals.push(m.signal);
      signals.sort((a, b) => a.key.localeCompare(b.key));
      return { ...snap, signals };
    }
    case 'health':
      return { ...snap, health: m.health, floor: m.floor };
    case 'decision': {
      const d = m.decision;
      return {
        ...snap,
        at: Math.max(snap.at, d.at),
        route: d.route,
        mode: d.mode,
        reasons: d.reasons,
        override: d.override,
        decidedBy: d.decidedBy,
        routeSince: d.routeChanged ? d.at : snap.routeSince,
        modeSince: d.mode !== d.previousMode ? d.at : snap.modeSince,
      };
    }
    case 'callPath':
      return { ...snap, callPath: m.callPath };
    case 'actuator': {
      const others = snap.actuators.filter((a) => a.actuator !== m.status.actuator);
      return { ...snap, actuators: [...others, m.status].sort((a, b) => a.actuator.localeCompare(b.actuator)) };
    }
    case 'event':
      return snap;
  }
}

export class LiveConnection {
  state: LiveState = { conn: 'connecting', snap: null, clockSkewMs: 0, lostSince: null, alarms: [], openAlarms: 0, recent: [], version: 0 };
  private ws: WebSocket | null = null;
  private readonly listeners = new Set<(s: LiveState) => void>();
  private retryTimer: number | null = null;
  private watchdog: number | null = null;
  private attempt = 0;
  private stopped = false;

  constructor(private readonly onLoggedOut: () => void) {}

  subscribe(f: (s: LiveState) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.ws?.close();
    this.ws = null;
  }

  private set(patch: Partial<LiveState>): void {
    this.state = { ...this.state, ...patch, version: this.state.version + 1 };
    for (const f of this.listeners) f(this.state);
  }

  private connect(): void {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/live`);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.kick();
      this.onMessage(JSON.parse(String(ev.data)) as LiveMessage | { type: 'ping'; at: number } | { type: 'snapshot'; snapshot: Snapshot });
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lost();
    };
    ws.onerror = () => ws.close();
    this.kick();
  }

  /** (Re)arms the silence watchdog. */
  private kick(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.ws?.close(), SILENCE_MS);
  }

  private lost(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    if (this.stopped) return;
    if (this.state.conn !== 'lost') this.set({ conn: 'lost', lostSince: Date.now() });
    const delay = Math.min(5000, 500 * 2 ** this.attempt++);
    this.retryTimer = window.setTimeout(() => void this.retry(), delay);
  }

  private async retry(): Promise<void> {
    // A socket refused for want of a session looks like any other failure in a
    // browser; ask the API whether we are still logged in before trying again.
    try {
      const r = await fetch('/api/me', { credentials: 'same-origin' });
      if (r.status === 401) {
        this.stop();
        this.onLoggedOut();
        return;
      }
    } catch {
      // server unreachable: keep trying
    }
    this.connect();
  }

  private onMessage(m: LiveMessage | { type: 'ping'; at: number } | { type: 'snapshot'; snapshot: Snapshot }): void {
    if (m.type === 'ping') {
      if (this.state.conn !== 'live' && this.state.snap) this.set({ conn: 'live', lostSince: null });
      return;
    }
    if (m.type === 'snapshot') {
      this.attempt = 0;
      this.set({ conn: 'live', lostSince: null, snap: m.snapshot, clockSkewMs: m.snapshot.at - Date.now() });
      void this.loadAlarms();
      return;
    }
    const snap = this.state.snap;
    if (!snap) return;
    if (m.type === 'event') {
      const row = toRow(m.event);
      const recent = [row, ...this.state.recent].slice(0, MAX_RECENT);
      let { alarms, openAlarms } = this.state;
      if (row.severity === 'alarm' && !alarms.some((a) => a.id === row.id)) {
        alarms = [{ ...row, ack: null }, ...alarms];
        openAlarms++;
      }
      const acked = row.kind === 'alarm.acknowledged' ? (row.data as { eventId?: number } | null)?.eventId : undefined;
      if (acked !== undefined && alarms.some((a) => a.id === acked)) {
        alarms = alarms.filter((a) => a.id !== acked);
        openAlarms = Math.max(0, openAlarms - 1);
      }
      this.set({ recent, alarms, openAlarms });
      return;
    }
    this.set({ snap: applyDelta(snap, m) });
  }

  /** Open alarms are not in the snapshot: fetched after each (re)connect and merged with live ones. */
  async loadAlarms(): Promise<void> {
    try {
      const r = await api<{ alarms: AlarmRow[]; open: number }>('GET', '/api/alarms?state=open&limit=100');
      const byId = new Map<number, AlarmRow>();
      for (const a of [...r.alarms, ...this.state.alarms.filter((a) => a.ack === null)]) byId.set(a.id, a);
      this.set({ alarms: [...byId.values()].sort((a, b) => b.id - a.id), openAlarms: Math.max(r.open, byId.size) });
    } catch {
      // shown as connection trouble by the socket; nothing else to do
    }
  }

  /** After this browser acknowledged an alarm (the live event will confirm it too). */
  markAcked(id: number): void {
    if (!this.state.alarms.some((a) => a.id === id)) return;
    this.set({ alarms: this.state.alarms.filter((a) => a.id !== id), openAlarms: Math.max(0, this.state.openAlarms - 1) });
  }
}

export function useLive(conn: LiveConnection): LiveState {
  const [s, set] = useState(conn.state);
  useEffect(() => {
    set(conn.state);
    return conn.subscribe(set);
  }, [conn]);
  return s;
}

/** A clock that re-renders every `ms` (for "since …" durations). */
export function useNow(ms = 1000): number {
  const [now, set] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => set(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

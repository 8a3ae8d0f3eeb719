/**
 * Health: fold the effective signals into one status per subsystem, with reasons.
 * Pure. Subsystem rules that are more than "worst signal wins" live here, in one
 * place, so a newcomer can read what makes the box unhealthy:
 *  - power: on battery longer than the limit, runtime below the limit, LB, FSD → fail
 *  - wan: fail only when every link is down (one link down is a warning)
 *  - centres: local centre unreachable on every path → fail and safety floor;
 *    the same when the local centre fails its calls while it answers its probes
 *    (`centres.calls.local`, core/callOutcomes.ts);
 *    backup or trunk unreachable → warning (an alarm, but no reason to move calls)
 *  - system.shutdown → safety floor
 * Unknown is never healthy: a stale or unknown signal makes its subsystem unknown
 * unless something is outright failing.
 */
import { foldPowerRules, type PowerRules } from './powerHealth.js';
import { type Reason, reason } from './reason.js';
import { SUBSYSTEMS, type SignalStatus, type Subsystem, worstStatus } from './signal.js';
import type { EffectiveSignal } from './signalTable.js';

export interface HealthRules extends PowerRules {
  /** On battery longer than this (s) → power fails. */
  failoverAfterOnBatteryS: number;
  /** Battery runtime below this (s) while on battery → power fails. */
  minRuntimeS: number;
  /** LB → power fails. */
  failoverOnLowBattery: boolean;
  /** FSD (forced shutdown from the primary upsmon) → power fails. */
  failoverOnFsd: boolean;
}

export const defaultHealthRules: HealthRules = {
  failoverAfterOnBatteryS: 120,
  minRuntimeS: 300,
  failoverOnLowBattery: true,
  failoverOnFsd: true,
};

export interface SubsystemHealth {
  subsystem: Subsystem;
  status: SignalStatus;
  reasons: Reason[];
  signals: string[];
}

export interface Health {
  at: number;
  subsystems: Record<Subsystem, SubsystemHealth>;
  /** Safety-floor reasons: when non-empty, calls go to backup whatever else says. */
  floor: Reason[];
  /** Reasons that are an alarm although their subsystem only warns (e.g. mains lost). */
  alarms: Reason[];
}

export const SUBSYSTEM_NAMES: Record<Subsystem, { nb: string; en: string }> = {
  power: { nb: 'strøm', en: 'power' },
  time: { nb: 'tid', en: 'time' },
  wan: { nb: 'WAN', en: 'WAN' },
  centres: { nb: 'sentraler', en: 'centres' },
  recording: { nb: 'lydlogg', en: 'recording' },
  telephony: { nb: 'telefoni', en: 'telephony' },
  flows: { nb: 'flyter', en: 'flows' },
  system: { nb: 'system', en: 'system' },
};

const STATUS_NB: Record<SignalStatus, string> = { ok: 'ok', warn: 'advarsel', fail: 'feil', unknown: 'ukjent' };

function genericReason(s: EffectiveSignal): Reason {
  const detail = s.detail ? ` — ${s.detail}` : '';
  const value = s.value === null ? '' : ` = ${String(s.value)}${s.unit ? ` ${s.unit}` : ''}`;
  return reason(`signal.${s.status}`, s.subsystem, [s.key], `${s.key}${value}: ${STATUS_NB[s.status]}${detail}`, `${s.key}${value}: ${s.status}${detail}`);
}

/** Worst-of fold with one reason per non-ok signal. */
function foldGeneric(subsystem: Subsystem, signals: EffectiveSignal[]): SubsystemHealth {
  const status = worstStatus(
    signals.map((s) => s.status),
    'unknown',
  );
  const reasons = signals.filter((s) => s.status !== 'ok').map(genericReason);
  if (signals.length === 0) {
    const n = SUBSYSTEM_NAMES[subsystem];
    reasons.push(reason('subsystem.noSignals', subsystem, [], `Ingen målinger for ${n.nb} ennå`, `No ${n.en} signals yet`));
  }
  return { subsystem, status, reasons, signals: signals.map((s) => s.key) };
}

const lastPart = (key: string) => key.slice(key.lastIndexOf('.') + 1);

/** The flags the power rules interpret; their per-signal status is not used as is (OL+LB is no failure). */
const POWER_FLAGS = new Set(['mains', 'onBattery', 'lowBattery', 'fsd']);

function foldPower(signals: EffectiveSignal[], rules: HealthRules, now: number): { health: SubsystemHealth; floor: Reason[]; alarms: Reason[] } {
  // Measurements (charge, runtime, voltage, load) fold as usual; the flags only when unknown
  // (a monitoring fault is never healthy). What the flags mean is powerHealth.ts.
  if (signals.length === 0) return { health: foldGeneric('power', []), floor: [], alarms: [] };
  const rest = signals.filter((s) => !POWER_FLAGS.has(lastPart(s.key)) || s.status === 'unknown');
  const base = rest.length > 0 ? foldGeneric('power', rest) : null;
  const rulesFold = foldPowerRules(signals, rules, now);
  const status = worstStatus([rulesFold.status, ...(base ? [base.status] : [])]);
  return {
    health: { subsystem: 'power', status, reasons: [...rulesFold.reasons, ...(base?.reasons ?? [])], signals: signals.map((s) => s.key) },
    floor: rulesFold.floor,
    alarms: rulesFold.alarms,
  };
}

function foldWan(signals: EffectiveSignal[]): SubsystemHealth {
  const base = foldGeneric('wan', signals);
  const links = signals.filter((s) => lastPart(s.key) === 'state');
  if (links.length === 0) return base;
  const allDown = links.every((s) => s.status === 'fail');
  if (allDown) {
    return {
      ...base,
      status: 'fail',
      reasons: [
        reason(
          'wan.allLinksDown',
          'wan',
          links.map((s) => s.key),
          `Alle WAN-linjer er nede (${links.length})`,
          `All WAN links are down (${links.length})`,
        ),
        ...base.reasons,
      ],
    };
  }
  // One link down out of several is redundancy at work: a warning, not a failure.
  const status = base.status === 'fail' ? 'warn' : base.status;
  return { ...base, status };
}

interface CentresFold {
  health: SubsystemHealth;
  floor: Reason[];
}

/** What the calls to the local centre say (monitors/callOutcomeMonitor.ts); not a probe path. */
export const LOCAL_CALLS_SIGNAL = 'centres.calls.local';

function foldCentres(signals: EffectiveSignal[]): CentresFold {
  const local = signals.filter((s) => s.key.startsWith('centres.local.'));
  const backup = signals.filter((s) => s.key.startsWith('centres.backup.'));
  const calls = signals.filter((s) => s.key === LOCAL_CALLS_SIGNAL);
  const others = signals.filter((s) => !local.includes(s) && !backup.includes(s) && !calls.includes(s));
  const reasons: Reason[] = [];
  const floor: Reason[] = [];
  const statuses: SignalStatus[] = [];

  // Calls failing at a centre that answers its probes: as unreachable — the calls do not get through.
  for (const s of calls) {
    if (s.status === 'fail') {
      const n = typeof s.value === 'number' ? s.value : 0;
      const r = reason(
        'centres.localCallsFailing',
        'centres',
        [s.key],
        `Lokal sentral tar ikke imot anrop: de ${n} siste anropene dit fikk ikke svar eller ble avvist (5xx), selv om den svarer på OPTIONS`,
        `Local centre is not taking calls: its last ${n} calls got no reply or were refused (5xx), although it answers OPTIONS`,
      );
      statuses.push('fail');
      reasons.push(r);
      floor.push(r);
    } else if (s.status !== 'unknown') {
      statuses.push(s.status);
      if (s.status !== 'ok') reasons.push(genericReason(s));
    }
    // Unknown = Kamailio does not answer: telephony.kamailio fails for that already, and
    // no call reaches any centre then. Counted here it would only repeat that alarm.
  }

  if (local.length === 0 && calls.length > 0) {
    // No probe paths on this box: the calls are all there is to go by.
  } else if (local.length === 0) {
    statuses.push('unknown');
    reasons.push(reason('centres.localUnknown', 'centres', [], 'Lokal sentral: ingen målinger', 'Local centre: no probes yet'));
  } else if (local.every((s) => s.status === 'fail')) {
    const r = reason(
      'centres.localUnreachable',
      'centres',
      local.map((s) => s.key),
      'Lokal sentral svarer ikke på noen vei',
      'Local centre unreachable on every path',
    );
    statuses.push('fail');
    reasons.push(r);
    floor.push(r);
  } else if (local.some((s) => s.status === 'ok')) {
    statuses.push(local.every((s) => s.status === 'ok') ? 'ok' : 'warn');
    reasons.push(...local.filter((s) => s.status !== 'ok').map(genericReason));
  } else {
    statuses.push('unknown');
    reasons.push(...local.filter((s) => s.status !== 'ok').map(genericReason));
  }

  if (backup.length > 0 && backup.every((s) => s.status === 'fail')) {
    statuses.push('warn');
    reasons.push(
      reason(
        'centres.backupUnreachable',
        'centres',
        backup.map((s) => s.key),
        'Reservesentralen svarer ikke på noen vei',
        'Backup centre unreachable on every path',
      ),
    );
  } else if (backup.some((s) => s.status !== 'ok')) {
    statuses.push('warn');
    reasons.push(...backup.filter((s) => s.status !== 'ok').map(genericReason));
  }
  for (const s of others) {
    // Trunk and other dependencies: an alarm, never a reason to move calls by themselves.
    if (s.status !== 'ok') {
      statuses.push(s.status === 'fail' ? 'warn' : s.status);
      reasons.push(genericReason(s));
    }
  }
  return {
    health: { subsystem: 'centres', status: worstStatus(statuses, 'unknown'), reasons, signals: signals.map((s) => s.key) },
    floor,
  };
}

export function evaluateHealth(signals: readonly EffectiveSignal[], now: number, rules: HealthRules = defaultHealthRules): Health {
  const by = new Map<Subsystem, EffectiveSignal[]>(SUBSYSTEMS.map((s) => [s, []]));
  for (const s of signals) by.get(s.subsystem)?.push(s);
  const get = (s: Subsystem) => by.get(s) ?? [];

  const centres = foldCentres(get('centres'));
  const power = foldPower(get('power'), rules, now);
  const subsystems = {} as Record<Subsystem, SubsystemHealth>;
  for (const sub of SUBSYSTEMS) {
    if (sub === 'power') subsystems[sub] = power.health;
    else if (sub === 'wan') subsystems[sub] = foldWan(get(sub));
    else if (sub === 'centres') subsystems[sub] = centres.health;
    else subsystems[sub] = foldGeneric(sub, get(sub));
  }

  // Critical power first: it says why the box itself cannot be trusted.
  const floor = [...power.floor, ...centres.floor];
  for (const s of get('system')) {
    if (lastPart(s.key) === 'shutdown' && s.value === true) {
      floor.push(reason('system.shutdown', 'system', [s.key], 'Boksen stenger ned', 'The box is shutting down'));
    }
  }
  return { at: now, subsystems, floor, alarms: power.alarms };
}

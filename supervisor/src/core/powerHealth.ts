/**
 * Power health: what the UPS flags mean for the calls. Pure.
 *
 * The rules (README "Power rules"; each one a finding from the real upsd/upsmon):
 *  - A power *source* is one UPS (`power.<id>.*`) or the GPIO contacts (`power.gpio.*`).
 *  - **Critical** = FSD, or low battery (LB) *while on battery*. Critical power is a safety
 *    floor: calls go to backup at once, never held back by the hold-down — upsmon powers the
 *    box off about a second after OB+LB.
 *  - **Failing** = critical, or on battery longer than `failoverAfterOnBatteryS`, or on
 *    battery with less runtime than `minRuntimeS`: the power subsystem fails (a failover
 *    trigger through `policy.failoverOn`).
 *  - LB *on mains* (OL LB: recharging after a deep discharge) is a warning, not a failure:
 *    upsmon only sends a notice for it.
 *  - On battery but not yet failing: a warning that says how long on battery, the runtime
 *    left and when calls will move — and the supervisor raises it as an alarm at once.
 *  - Several sources: `upsRule` says how many must be failing before power fails —
 *    `any` (default: one failing UPS decides), `all`, or `{ minHealthy: N }` (fail when fewer
 *    than N sources are healthy). The same rule, applied to critical sources, decides the floor.
 */
import { type Reason, reason } from './reason.js';
import type { SignalStatus } from './signal.js';
import type { EffectiveSignal } from './signalTable.js';

export type UpsRule = 'any' | 'all' | { minHealthy: number };

export interface PowerRules {
  failoverAfterOnBatteryS: number;
  minRuntimeS: number;
  failoverOnLowBattery: boolean;
  failoverOnFsd: boolean;
  /** How many failing power sources make power fail (default `any`). */
  upsRule?: UpsRule;
}

export interface PowerFold {
  status: SignalStatus;
  /** Reasons beyond the per-signal ones, most important first. */
  reasons: Reason[];
  /** Critical power (FSD, OB+LB) under the rule: a safety floor. */
  floor: Reason[];
  /** Reasons for a warning that is an alarm at once (mains lost). */
  alarms: Reason[];
}

interface Source {
  id: string;
  signals: EffectiveSignal[];
}

const part = (key: string) => key.slice(key.lastIndexOf('.') + 1);
const known = (s: EffectiveSignal | undefined) => s !== undefined && s.status !== 'unknown';

function sources(signals: readonly EffectiveSignal[]): Source[] {
  const by = new Map<string, EffectiveSignal[]>();
  for (const s of signals) {
    const id = s.key.split('.')[1] ?? '';
    by.set(id, [...(by.get(id) ?? []), s]);
  }
  return [...by].map(([id, list]) => ({ id, signals: list }));
}

function onBatterySignal(src: Source): EffectiveSignal | undefined {
  return src.signals.find(
    (s) => known(s) && ((part(s.key) === 'mains' && (s.value === 'battery' || s.value === false)) || (part(s.key) === 'onBattery' && s.value === true)),
  );
}

const flag = (src: Source, name: string) => src.signals.find((s) => part(s.key) === name && known(s) && s.value === true);

function ruleTriggered(rule: UpsRule, failing: number, total: number): boolean {
  if (failing === 0) return false;
  if (rule === 'any') return true;
  if (rule === 'all') return failing >= total;
  return total - failing < rule.minHealthy;
}

function ruleText(rule: UpsRule): { nb: string; en: string } {
  if (rule === 'any') return { nb: 'én strømkilde som svikter er nok', en: 'one failing power source is enough' };
  if (rule === 'all') return { nb: 'alle strømkilder må svikte', en: 'every power source must fail' };
  return { nb: `minst ${rule.minHealthy} friske strømkilder kreves`, en: `at least ${rule.minHealthy} healthy power sources required` };
}

const fmtMin = (s: number) => `${Math.floor(s / 60)} min`;

export function foldPowerRules(signals: readonly EffectiveSignal[], rules: PowerRules, now: number): PowerFold {
  const rule = rules.upsRule ?? 'any';
  const all = sources(signals).filter((src) => src.signals.some((s) => ['mains', 'onBattery', 'lowBattery', 'fsd'].includes(part(s.key))));
  const critical: Array<{ src: Source; reasons: Reason[] }> = [];
  const failing: Array<{ src: Source; reasons: Reason[] }> = [];
  const warnings: Reason[] = [];
  const alarms: Reason[] = [];

  for (const src of all) {
    const ob = onBatterySignal(src);
    const lb = flag(src, 'lowBattery');
    const fsd = flag(src, 'fsd');
    const runtime = src.signals.find((s) => part(s.key) === 'runtime' && known(s) && typeof s.value === 'number');
    const crit: Reason[] = [];
    if (fsd && rules.failoverOnFsd) {
      crit.push(reason('power.fsd', 'power', [fsd.key], `${src.id}: UPS varsler tvungen nedstengning (FSD)`, `${src.id}: UPS signals forced shutdown (FSD)`));
    }
    if (lb && ob && rules.failoverOnLowBattery) {
      crit.push(
        reason(
          'power.lowBattery',
          'power',
          [lb.key, ob.key],
          `${src.id}: lavt batteri mens boksen går på batteri (OB LB)`,
          `${src.id}: low battery while on battery (OB LB)`,
        ),
      );
    }
    if (lb && !ob) {
      warnings.push(
        reason(
          'power.lowBatteryOnMains',
          'power',
          [lb.key],
          `${src.id}: lavt batteri mens strømmen er tilbake — lader (ingen omruting)`,
          `${src.id}: low battery with mains present — recharging (calls stay)`,
        ),
      );
    }
    const fail: Reason[] = [...crit];
    if (ob) {
      const forS = Math.floor((now - ob.changedAt) / 1000);
      const runtimeS = typeof runtime?.value === 'number' ? runtime.value : null;
      if (forS >= rules.failoverAfterOnBatteryS) {
        fail.push(
          reason(
            'power.onBatteryTooLong',
            'power',
            [ob.key],
            `${src.id}: på batteri i ${forS} s (grense ${rules.failoverAfterOnBatteryS} s)`,
            `${src.id}: on battery for ${forS} s (limit ${rules.failoverAfterOnBatteryS} s)`,
          ),
        );
      }
      if (runtimeS !== null && runtimeS < rules.minRuntimeS) {
        fail.push(
          reason(
            'power.lowRuntime',
            'power',
            [runtime?.key ?? ob.key],
            `${src.id}: batteritid igjen ${runtimeS} s, under grensen ${rules.minRuntimeS} s`,
            `${src.id}: battery runtime left ${runtimeS} s, below the limit ${rules.minRuntimeS} s`,
          ),
        );
      }
      if (fail.length === 0) {
        // Not failing yet: say how long, what is left and when calls will move.
        const moveInS = Math.max(0, rules.failoverAfterOnBatteryS - forS);
        const byRuntime = runtimeS !== null ? Math.max(0, runtimeS - rules.minRuntimeS) : null;
        const inS = byRuntime !== null ? Math.min(moveInS, byRuntime) : moveInS;
        const left = runtimeS !== null ? { nb: `, ${fmtMin(runtimeS)} batteritid igjen`, en: `, ${fmtMin(runtimeS)} of battery left` } : { nb: '', en: '' };
        const r = reason(
          'power.onBattery',
          'power',
          [ob.key, ...(runtime ? [runtime.key] : [])],
          `${src.id}: strømbrudd — på batteri i ${forS} s${left.nb}; anrop flyttes til reservesentralen om ${inS} s hvis strømmen ikke kommer tilbake`,
          `${src.id}: mains lost — on battery for ${forS} s${left.en}; calls move to the backup centre in ${inS} s unless mains returns`,
        );
        warnings.push(r);
        alarms.push(r);
      }
    }
    if (crit.length > 0) critical.push({ src, reasons: crit });
    if (fail.length > 0) failing.push({ src, reasons: fail });
  }

  const total = all.length;
  const floor = ruleTriggered(rule, critical.length, total) ? critical.flatMap((c) => c.reasons) : [];
  if (ruleTriggered(rule, failing.length, total)) {
    return { status: 'fail', reasons: [...failing.flatMap((f) => f.reasons), ...warnings], floor, alarms };
  }
  if (failing.length > 0) {
    // Failing sources that the rule tolerates: a warning that says why calls stay.
    const t = ruleText(rule);
    const healthy = total - failing.length;
    warnings.unshift(
      ...failing.flatMap((f) => f.reasons),
      reason(
        'power.ruleHolds',
        'power',
        [],
        `${healthy} av ${total} strømkilder er friske (${t.nb}): ingen omruting`,
        `${healthy} of ${total} power sources are healthy (${t.en}): calls stay`,
      ),
    );
  }
  return { status: warnings.length > 0 ? 'warn' : 'ok', reasons: warnings, floor, alarms };
}

/**
 * One line of Kamailio's call records → a CallMilestone. The line is what acc
 * writes through db_flatstore (render.ts, "Call records"): acc's own columns
 * `method|from_tag|to_tag|callid|sip_code|sip_reason|time`, then the extras
 * `ts|role|caller|pai|called|probe` (CALL_RECORD_EXTRAS). db_flatstore writes a
 * `|` inside a value as `%7C`; NULL as an empty field.
 */
import { CALL_EVENTS, type CallEvent, type CallMilestone } from '../core/evidence.js';
import { CALL_RECORD_EXTRAS } from '../reconcilers/kamailio/render.js';

const ACC_COLUMNS = ['method', 'fromTag', 'toTag', 'callId', 'code', 'reason', 'time'] as const;
export const CALL_RECORD_FIELDS = ACC_COLUMNS.length + CALL_RECORD_EXTRAS.length;

export interface ParsedCallRecord extends CallMilestone {
  fromTag: string;
  method: string;
}

export type ParseResult = { ok: true; record: ParsedCallRecord } | { ok: false; error: string };

const unescapePipe = (s: string) => s.replace(/%7C/gi, '|');
const orNull = (s: string | undefined) => (s === undefined || s === '' ? null : unescapePipe(s));

/** "1795314162.656012" → epoch ms, without going through a float. */
export function secondsDotMicrosToMs(ts: string): number | null {
  const m = /^(\d{9,11})\.(\d{1,6})$/.exec(ts.trim());
  if (!m) return null;
  const micros = (m[2] as string).padEnd(6, '0');
  return Number(m[1]) * 1000 + Math.floor(Number(micros) / 1000);
}

export function parseCallRecordLine(line: string): ParseResult {
  const f = line.split('|');
  if (f.length !== CALL_RECORD_FIELDS) {
    return { ok: false, error: `expected ${CALL_RECORD_FIELDS} fields separated by |, got ${f.length}` };
  }
  const [method, fromTag, , callId, code, reason, , ts, role, caller, pai, called, probe] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const event = reason.trim() as CallEvent;
  if (!CALL_EVENTS.includes(event)) return { ok: false, error: `unknown call event ${JSON.stringify(reason)}` };
  if (callId === '') return { ok: false, error: 'no Call-ID' };
  const at = secondsDotMicrosToMs(ts);
  if (at === null) return { ok: false, error: `bad timestamp ${JSON.stringify(ts)} (expected seconds.micros)` };
  const n = code === '' ? null : Number(code);
  return {
    ok: true,
    record: {
      method,
      fromTag: unescapePipe(fromTag),
      callId: unescapePipe(callId),
      event,
      at,
      code: n !== null && Number.isInteger(n) && n > 0 ? n : null,
      role: orNull(role),
      caller: orNull(caller),
      pai: orNull(pai),
      called: orNull(called),
      probe: probe === '1',
    },
  };
}

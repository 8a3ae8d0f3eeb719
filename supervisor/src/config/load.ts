/**
 * Reads and validates a YAML config. Every problem becomes one line:
 *   vaktpost.yaml:12: policy.holdDownS: expected a number, found "thirty"
 * never a stack trace. YAML syntax errors and duplicate keys are caught by the
 * parser (with their position), schema errors are mapped back to the YAML node.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Subsystem } from '../core/signal.js';
import { flowsAdvice } from './flows.js';
import { configSchema, type VaktpostConfig } from './schema.js';
import { wanAdvice } from './wan.js';

export interface ConfigProblem {
  file: string;
  line: number;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path ? `${p.path}: ` : '';
  return `${path.basename(p.file)}:${p.line}: ${where}${p.message}`;
}

/**
 * Advice that is not an error — a valid config that is weak (a WAN link with one probe
 * target) or does not do what it says (a failover trigger nothing monitors): reported (check-config: stderr, exit 0;
 * `run`: logged and a warn event) but never refused. Same shape as a problem.
 */
export type ConfigWarning = ConfigProblem;

type LoadResult = { ok: true; config: VaktpostConfig; warnings: ConfigWarning[] } | { ok: false; problems: ConfigProblem[] };

/**
 * The subsystems something monitors with this config — the same rules app.ts follows when
 * it creates the monitors (keep the two in step): the simulated box simulates every
 * signal source; a real box only what is configured.
 */
export function monitoredSubsystems(cfg: VaktpostConfig): Subsystem[] {
  const out: Subsystem[] = [];
  if (cfg.box.hardware === 'simulated') out.push('power', 'time', 'wan', 'centres', 'recording', 'telephony', 'system');
  else {
    out.push('time', 'system');
    if (cfg.power.ups.length > 0 || cfg.power.gpio.enabled) out.push('power');
    if (cfg.wan) out.push('wan', 'centres');
    if (cfg.calls || cfg.upstream.heartbeat) out.push('telephony');
    if (cfg.audiolog?.enabled && cfg.calls?.recording.enabled) out.push('recording');
  }
  if (cfg.flows.enabled) out.push('flows');
  return out;
}

/** Why a failover trigger has no monitor behind it, and how to give it one. */
const UNMONITORED: Record<Subsystem, { why: string; fix: string }> = {
  wan: {
    why: 'the uplinks are probed only when a `wan:` section is configured (there is none)',
    fix: 'add a `wan:` section with the uplinks (links) to probe — see supervisor/src/config/wan.ts',
  },
  centres: {
    why: 'the centres are probed (SIP OPTIONS on every path) only when a `wan:` section is configured (there is none)',
    fix: 'add a `wan:` section (links, and centres to probe) — see supervisor/src/config/wan.ts',
  },
  power: {
    why: 'no UPS (`power.ups`) and no GPIO contacts (`power.gpio.enabled`) are configured',
    fix: 'list the UPS under `power.ups` (NUT) or enable `power.gpio`',
  },
  telephony: {
    why: 'neither a `calls:` section (Kamailio) nor `upstream.heartbeat` is configured',
    fix: 'configure `calls:` (ops/kamailio/calls.example.yaml) or `upstream.heartbeat`',
  },
  recording: {
    why: 'the audio log is not on (`audiolog.enabled` and `calls.recording.enabled` both needed)',
    fix: 'enable `audiolog` and `calls.recording`',
  },
  flows: { why: 'the flows are not enabled (`flows.enabled: false`)', fix: 'set `flows.enabled: true`' },
  time: { why: 'time is not monitored', fix: 'configure `time:`' },
  system: { why: 'the box itself is not monitored', fix: 'configure `system:`' },
};

/**
 * Warnings about a valid config, without file positions (for `run`): each failover trigger
 * in `policy.failoverOn` that nothing monitors — it can never fire, so calls would not move
 * when that part fails.
 */
export function configWarnings(cfg: VaktpostConfig): Array<{ path: string; message: string; nb: string; trigger: Subsystem }> {
  const monitored = new Set(monitoredSubsystems(cfg));
  const out: Array<{ path: string; message: string; nb: string; trigger: Subsystem }> = [];
  for (const [i, sub] of cfg.policy.failoverOn.entries()) {
    if (monitored.has(sub)) continue;
    const u = UNMONITORED[sub];
    out.push({
      path: `policy.failoverOn.${i}`,
      trigger: sub,
      message: `failover trigger "${sub}" can never fire: ${u.why}, so nothing reports on ${sub} and calls will NOT move to backup when it fails (failovertrigger "${sub}" kan aldri utløses). Fix: ${u.fix}, or remove "${sub}" from policy.failoverOn`,
      nb: `failovertrigger "${sub}" kan aldri utløses: ingenting overvåker ${sub}, så anrop flyttes IKKE til reservesentralen når det svikter. Rett: ${u.fix}, eller fjern "${sub}" fra policy.failoverOn`,
    });
  }
  return out;
}

/** Reads and validates a config file; also returns its warnings (`check-config` prints them). */
export function loadConfigFileWithWarnings(file: string): { config: VaktpostConfig; warnings: ConfigWarning[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found (fil finnes ikke)' : code === 'EACCES' ? 'permission denied (ingen tilgang)' : String(err);
    throw new ConfigError([{ file, line: 0, path: '', message: `cannot read config: ${why}` }]);
  }
  const r = parseConfigText(text, file);
  if (!r.ok) throw new ConfigError(r.problems);
  return { config: r.config, warnings: r.warnings };
}

export interface LoadOptions {
  /**
   * Where warnings go. Default: nowhere — only `vaktpost check-config` (exit code still 0)
   * and the start of `vaktpost run` (stderr → the journal, and a warn event) show them, so
   * the audio-log and report commands do not repeat them on every call.
   */
  onWarning?: (w: ConfigWarning) => void;
}

export function formatWarning(w: ConfigWarning): string {
  const where = w.path ? `${w.path}: ` : '';
  return `${path.basename(w.file)}:${w.line}: ${where}warning (advarsel): ${w.message}`;
}

export const warnToStderr = (w: ConfigWarning) => {
  process.stderr.write(`${formatWarning(w)}\n`);
};

/** Reads and validates a config file; its warnings go to `opts.onWarning` (default: stderr). */
export function loadConfigFile(file: string, opts: LoadOptions = {}): VaktpostConfig {
  const r = loadConfigFileWithWarnings(file);
  for (const w of r.warnings) opts.onWarning?.(w);
  return r.config;
}

export function parseConfigText(text: string, file = 'vaktpost.yaml'): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line,
        path: '',
        message: yamlMessage(e.code, e.message, text.slice(e.pos[0]).split(/[:\n]/)[0] ?? ''),
      })),
    };
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: [{ file, line: 1, path: '', message: 'expected a mapping of sections (box, api, policy, …) at the top level' }] };
  }
  // A section written as `box:` with only comments under it is an empty section.
  for (const [k, v] of Object.entries(data)) if (v === null) (data as Record<string, unknown>)[k] = {};
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (parsed.success) {
    const root = doc.contents as Node | null;
    const warnings: ConfigWarning[] = [
      ...[...(parsed.data.wan ? wanAdvice(parsed.data.wan) : []), ...flowsAdvice(parsed.data.flows)].map((a) => ({
        file,
        line: lineOfPath(root, a.path, lc),
        path: a.path.join('.'),
        message: `${a.en} / ${a.nb}`,
      })),
      // `failoverOn` left at its default has no node of its own: the line is `policy`'s (or 1).
      ...configWarnings(parsed.data).map((w) => ({ file, line: lineOfPath(root, w.path.split('.'), lc), path: w.path, message: w.message })),
    ];
    return { ok: true, config: parsed.data, warnings };
  }
  return {
    ok: false,
    problems: parsed.error.issues.flatMap((issue) => issueProblems(issue, doc.contents as Node | null, lc, file)),
  };
}

function yamlMessage(code: string, message: string, source: string): string {
  const first = message.split('\n')[0] ?? message;
  if (code === 'DUPLICATE_KEY') return `duplicate key "${source.trim()}" (nøkkelen står to ganger): keep one`;
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}

function issueProblems(issue: z.core.$ZodIssue, root: Node | null, lc: LineCounter, file: string): ConfigProblem[] {
  const p = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({
      file,
      line: lineOfKey(root, p, k, lc),
      path: [...p, k].join('.'),
      message: `unknown key "${k}" (ukjent nøkkel)${suggest(issue)}`,
    }));
  }
  return [{ file, line: lineOfPath(root, p, lc), path: p.join('.'), message: describeIssue(issue) }];
}

function suggest(_issue: z.core.$ZodIssue): string {
  return ' — check the spelling against ops/vaktpost.example.yaml';
}

function found(input: unknown): string {
  if (input === undefined) return 'nothing (the key is missing)';
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return JSON.stringify(input);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(issue.expected)}, found ${found(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found(input)}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' || issue.origin === 'string' ? 'at least' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}, found ${found(input)}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'at most' : '≤'} ${String(issue.maximum)}${issue.origin === 'array' ? ' entries' : ''}, found ${found(input)}`;
    case 'invalid_format':
      // A pattern with its own message ("expected an absolute path …") says it better than the regex.
      if (issue.format === 'regex' && !issue.message.startsWith('Invalid string')) return `${issue.message}, found ${found(input)}`;
      if (issue.format === 'regex') return `expected text matching ${String((issue as { pattern?: unknown }).pattern)}, found ${found(input)}`;
      return `expected a valid ${issue.format}, found ${found(input)}`;
    default:
      return `${issue.message}, found ${found(input)}`;
  }
}

function article(t: string): string {
  const names: Record<string, string> = { number: 'a number', string: 'a text', boolean: 'true or false', object: 'a mapping', array: 'a list' };
  return names[t] ?? t;
}

/** Line of the deepest existing node along the path (the parent if the key is missing). */
function lineOfPath(root: Node | null, p: string[], lc: LineCounter): number {
  let node: Node | null = root;
  let line = node?.range ? lc.linePos(node.range[0]).line : 1;
  for (const seg of p) {
    if (!node || !('get' in node)) break;
    const child = (node as unknown as { get(k: unknown, keepScalar: boolean): unknown }).get(isMap(node) ? seg : Number(seg), true);
    if (!child || typeof child !== 'object' || !('range' in child)) break;
    node = child as Node;
    if (node.range) line = lc.linePos(node.range[0]).line;
  }
  return line;
}

function lineOfKey(root: Node | null, p: string[], key: string, lc: LineCounter): number {
  let node: Node | null = root;
  for (const seg of p) {
    if (!node || !('get' in node)) break;
    node = (node as unknown as { get(k: unknown, keepScalar: boolean): Node | null }).get(isMap(node) ? seg : Number(seg), true);
  }
  if (node && isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) {
        return lc.linePos(item.key.range[0]).line;
      }
    }
  }
  return lineOfPath(root, p, lc);
}

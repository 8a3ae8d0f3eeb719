/**
 * Reads and validates a YAML config. Every problem becomes one line:
 *   vaktpost.yaml:12: policy.holdDownS: expected a number, found "thirty"
 * never a stack trace. YAML syntax errors are caught by the parser (with their
 * position), duplicate keys by one pass over the document, schema errors are mapped
 * back to the YAML node.
 *
 * Hostile or broken files are refused in bounded time (issue #17): a file over
 * MAX_CONFIG_BYTES is refused before it is parsed, aliases may expand to at most
 * MAX_ALIAS_COUNT nodes ("billion laughs"), and the work is linear in the file's size —
 * yaml's own duplicate-key check and a key lookup per problem were quadratic (40 000
 * keys took 11 s).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { isAlias, isMap, isPair, isScalar, LineCounter, type Node, parseDocument, visit, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import type { Subsystem } from '../core/signal.js';
import { flowsAdvice } from './flows.js';
import { configSchema, type VaktpostConfig } from './schema.js';
import { startupProblems } from './startupChecks.js';
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

/**
 * A real config is a few KB; 1 MiB leaves room for long comments and generated lists
 * while bounding the parse (a 50 MB file would take the CLI and the start-up minutes).
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** yaml's alias-expansion budget (its default, stated here so the limit is ours). */
export const MAX_ALIAS_COUNT = 100;
/** At most this many problems are listed; the rest are counted in one last line. */
export const MAX_PROBLEMS_LISTED = 100;

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
    fix: 'configure `calls:` (see ops/vaktpost.example.yaml) or `upstream.heartbeat`',
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
export function loadConfigFileWithWarnings(file: string, opts: StartupOption = {}): { config: VaktpostConfig; warnings: ConfigWarning[] } {
  const text = readBounded(file);
  const r = parseConfigText(text, file, opts);
  if (!r.ok) throw new ConfigError(r.problems);
  return { config: r.config, warnings: r.warnings };
}

/**
 * The file's text, read at most MAX_CONFIG_BYTES + 1 bytes: a larger file (or an endless
 * one such as a device) is refused without reading the rest.
 */
function readBounded(file: string): string {
  const refuse = (message: string): never => {
    throw new ConfigError([{ file, line: 0, path: '', message }]);
  };
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found (fil finnes ikke)' : code === 'EACCES' ? 'permission denied (ingen tilgang)' : String(err);
    return refuse(`cannot read config: ${why}`);
  }
  try {
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_CONFIG_BYTES) {
        return refuse(`file is larger than ${MAX_CONFIG_BYTES / 1024} KiB (filen er for stor) — a config is a few KB; is this the right file?`);
      }
    }
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return refuse(`cannot read config: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export interface StartupOption {
  /**
   * Also run what `run` checks at start-up (startupChecks.ts) against this environment:
   * `run` and `check-config` pass process.env, so check-config refuses what run would.
   * The other commands leave it out — an admin's shell lacks the service's secrets.
   */
  startupEnv?: Readonly<Record<string, string | undefined>>;
}

export interface LoadOptions extends StartupOption {
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
  const r = loadConfigFileWithWarnings(file, opts.startupEnv ? { startupEnv: opts.startupEnv } : {});
  for (const w of r.warnings) opts.onWarning?.(w);
  return r.config;
}

export function parseConfigText(text: string, file = 'vaktpost.yaml', opts: StartupOption = {}): LoadResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    return {
      ok: false,
      problems: [{ file, line: 0, path: '', message: `text is larger than ${MAX_CONFIG_BYTES / 1024} KiB (for stor) — a config is a few KB` }],
    };
  }
  const lc = new LineCounter();
  // uniqueKeys off: yaml compares every key with every earlier one (quadratic); duplicateKeys() does it in one pass.
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: capped(
        doc.errors.map((e) => ({
          file,
          line: e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line,
          path: '',
          message: yamlMessage(e.code, e.message, text.slice(e.pos[0]).split(/[:\n]/)[0] ?? ''),
        })),
      ),
    };
  }
  const dups = duplicateKeys(doc.contents as Node | null, lc, file);
  if (dups.length > 0) return { ok: false, problems: capped(dups) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // yaml throws (a ReferenceError) when aliases expand past the budget: a "billion laughs" file.
    return { ok: false, problems: [{ file, line: firstAliasLine(doc.contents as Node | null, lc), path: '', message: aliasMessage(err) }] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: [{ file, line: 1, path: '', message: 'expected a mapping of sections (box, api, policy, …) at the top level' }] };
  }
  // A section written as `box:` with only comments under it is an empty section.
  for (const [k, v] of Object.entries(data)) if (v === null) (data as Record<string, unknown>)[k] = {};
  const parsed = configSchema.safeParse(data, { reportInput: true });
  const lines = new KeyLines(lc);
  if (parsed.success) {
    const root = doc.contents as Node | null;
    if (opts.startupEnv) {
      // The message names its config path itself: no `path: ` prefix.
      const refused = startupProblems(parsed.data, opts.startupEnv).map((p) => ({ file, line: lines.ofPath(root, p.path), path: '', message: p.message }));
      if (refused.length > 0) return { ok: false, problems: capped(refused) };
    }
    const warnings: ConfigWarning[] = [
      ...[...(parsed.data.wan ? wanAdvice(parsed.data.wan) : []), ...flowsAdvice(parsed.data.flows)].map((a) => ({
        file,
        line: lines.ofPath(root, a.path),
        path: a.path.join('.'),
        message: `${a.en} / ${a.nb}`,
      })),
      // `failoverOn` left at its default has no node of its own: the line is `policy`'s (or 1).
      ...configWarnings(parsed.data).map((w) => ({ file, line: lines.ofPath(root, w.path.split('.')), path: w.path, message: w.message })),
    ];
    return { ok: true, config: parsed.data, warnings };
  }
  return {
    ok: false,
    problems: capped(parsed.error.issues.flatMap((issue) => issueProblems(issue, doc.contents as Node | null, lines, file))),
  };
}

/** The first MAX_PROBLEMS_LISTED problems and, if there are more, one line that counts the rest. */
function capped(problems: ConfigProblem[]): ConfigProblem[] {
  if (problems.length <= MAX_PROBLEMS_LISTED) return problems;
  const rest = problems.length - MAX_PROBLEMS_LISTED;
  const last = problems[MAX_PROBLEMS_LISTED] as ConfigProblem;
  return [
    ...problems.slice(0, MAX_PROBLEMS_LISTED),
    { file: last.file, line: last.line, path: '', message: `… and ${rest} more problem${rest > 1 ? 's' : ''} (og ${rest} til) — fix these first` },
  ];
}

/** Keys written twice in one mapping, found with one set per mapping (linear). */
function duplicateKeys(root: Node | null, lc: LineCounter, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  visit(root, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const item of map.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        if (!seen.has(k)) {
          seen.add(k);
          continue;
        }
        const at = (item.key as Node | null)?.range?.[0];
        out.push({ file, line: at === undefined ? 1 : lc.linePos(at).line, path: '', message: `duplicate key "${k}" (nøkkelen står to ganger): keep one` });
      }
    },
  });
  return out;
}

function firstAliasLine(root: Node | null, lc: LineCounter): number {
  let line = 1;
  visit(root, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) line = lc.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

function aliasMessage(err: unknown): string {
  const why = (err as Error)?.message ?? String(err);
  if (/alias count/i.test(why)) {
    return `YAML aliases (*name) expand to too many nodes (over ${MAX_ALIAS_COUNT}; aliaser utvides for mye) — a "billion laughs" file? Write the values out instead of nesting aliases`;
  }
  return `YAML alias cannot be resolved (alias kan ikke løses opp): ${why.split('\n')[0]}`;
}

function yamlMessage(code: string, message: string, source: string): string {
  const first = message.split('\n')[0] ?? message;
  if (code === 'DUPLICATE_KEY') return `duplicate key "${source.trim()}" (nøkkelen står to ganger): keep one`;
  return `YAML syntax error: ${first.replace(/ at line \d+, column \d+:?$/, '')}`;
}

function issueProblems(issue: z.core.$ZodIssue, root: Node | null, lines: KeyLines, file: string): ConfigProblem[] {
  const p = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({
      file,
      line: lines.ofKey(root, p, k),
      path: [...p, k].join('.'),
      message: `unknown key "${k}" (ukjent nøkkel)${suggest(issue)}`,
    }));
  }
  return [{ file, line: lines.ofPath(root, p), path: p.join('.'), message: describeIssue(issue) }];
}

function suggest(_issue: z.core.$ZodIssue): string {
  return ' — check the spelling against ops/vaktpost.example.yaml';
}

function found(input: unknown): string {
  if (input === undefined) return 'nothing (the key is missing)';
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  // JSON.stringify would say "null" for YAML's .inf and .nan.
  if (typeof input === 'number' && !Number.isFinite(input)) {
    return Number.isNaN(input) ? '.nan (not a number)' : `${input > 0 ? '' : '-'}.inf (infinity)`;
  }
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
    case 'too_small': {
      // positive() is an exclusive minimum: "≥ 0, found 0" would contradict itself.
      const cmp = issue.origin === 'array' || issue.origin === 'string' ? 'at least' : issue.inclusive === false ? '>' : '≥';
      return `expected ${cmp} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}, found ${found(input)}`;
    }
    case 'too_big': {
      const cmp = issue.origin === 'array' || issue.origin === 'string' ? 'at most' : issue.inclusive === false ? '<' : '≤';
      return `expected ${cmp} ${String(issue.maximum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}, found ${found(input)}`;
    }
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

/**
 * Lines of keys and nodes by path. Each mapping's keys are indexed once, on first use, so
 * finding the line of every problem in a mapping of N keys is linear, not N × N.
 */
class KeyLines {
  private readonly index = new WeakMap<YAMLMap, Map<string, { keyAt: number | undefined; value: unknown }>>();
  constructor(private readonly lc: LineCounter) {}

  private pairs(map: YAMLMap): Map<string, { keyAt: number | undefined; value: unknown }> {
    let m = this.index.get(map);
    if (!m) {
      m = new Map();
      for (const item of map.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        if (!m.has(k)) m.set(k, { keyAt: (item.key as Node | null)?.range?.[0], value: item.value });
      }
      this.index.set(map, m);
    }
    return m;
  }

  private child(node: Node | null, seg: string): unknown {
    if (!node) return null;
    if (isMap(node)) return this.pairs(node).get(seg)?.value ?? null;
    if ('get' in node) return (node as unknown as { get(k: unknown, keepScalar: boolean): unknown }).get(Number(seg), true);
    return null;
  }

  /** Line of the deepest existing node along the path (the parent if the key is missing). */
  ofPath(root: Node | null, p: readonly string[]): number {
    let node: Node | null = root;
    let line = node?.range ? this.lc.linePos(node.range[0]).line : 1;
    for (const seg of p) {
      const c = this.child(node, seg);
      if (!c || typeof c !== 'object' || !('range' in c)) break;
      node = c as Node;
      if (node.range) line = this.lc.linePos(node.range[0]).line;
    }
    return line;
  }

  /** Line of `key` inside the mapping at path `p` (the mapping's line if not found). */
  ofKey(root: Node | null, p: readonly string[], key: string): number {
    let node: Node | null = root;
    for (const seg of p) node = (this.child(node, seg) as Node | null) ?? null;
    if (node && isMap(node)) {
      const at = this.pairs(node).get(key)?.keyAt;
      if (at !== undefined) return this.lc.linePos(at).line;
    }
    return this.ofPath(root, p);
  }
}

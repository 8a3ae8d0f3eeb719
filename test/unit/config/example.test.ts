/**
 * ops/vaktpost.example.yaml is the one complete, commented production config: every key
 * of the schema appears in it, and every key in it is one the schema knows. The schema is
 * walked as zod builds it (objects' shapes, through optional/default/array/union…), so a
 * key added to any config file without an example fails here, naming its path.
 * A few keys are alternatives a real box sets only in some cases (a studio recording
 * instead of the spoken announcement, a CA file): they are documented as comments.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { configSchema } from '../../../supervisor/src/config/schema.js';

const EXAMPLE = path.resolve('ops/vaktpost.example.yaml');

/** Keys that are alternatives or need a file of the box: shown commented out, `# key: value`. */
const COMMENTED_ON_PURPOSE: Record<string, string> = {
  'sim.scenario': 'only for the simulated box',
  'calls.announcement.audioFile': 'a studio recording instead of the spoken texts',
  'flows.credentialSecret': 'generated on first start unless given',
  'flows.nodesDir': 'default: the flows/ folder shipped with Vaktpost',
  'audiolog.rtpengine.advertise': 'only behind NAT',
  'wan.downLossPct': 'off by default (a pfSense-style rule)',
  'time.chronyc.port': 'only with a network host in time.chronyc.socket',
  'power.policy.upsRule.minHealthy': 'the { minHealthy: N } form of upsRule',
  'upstream.webhook.tls.caFile': 'a file the carrier supplies; check-config reads it',
  'upstream.webhook.status.tls.caFile': 'as above',
  'upstream.heartbeat.tls.caFile': 'as above',
};

interface ZodLike {
  _zod: { def: { type: string; shape?: Record<string, ZodLike>; innerType?: ZodLike; in?: ZodLike; element?: ZodLike; options?: ZodLike[] } };
}

/** Every key path the schema accepts; `[]` marks a list's entries. A record's keys are free (headers). */
export function schemaPaths(s: ZodLike, prefix = '', out = new Set<string>()): Set<string> {
  const d = s._zod.def;
  switch (d.type) {
    case 'object':
      for (const [k, v] of Object.entries(d.shape ?? {})) {
        const p = prefix ? `${prefix}.${k}` : k;
        out.add(p);
        schemaPaths(v, p, out);
      }
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      if (d.innerType) schemaPaths(d.innerType, prefix, out);
      break;
    case 'pipe':
      if (d.in) schemaPaths(d.in, prefix, out);
      break;
    case 'array':
      if (d.element) schemaPaths(d.element, `${prefix}[]`, out);
      break;
    case 'union':
      for (const o of d.options ?? []) schemaPaths(o, prefix, out);
      break;
    case 'record':
      break;
    default:
      break;
  }
  return out;
}

/** Key paths present in a parsed YAML document, in the same notation; below a record-typed key nothing is collected. */
function docPaths(v: unknown, prefix: string, records: Set<string>, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) {
    for (const e of v) docPaths(e, `${prefix}[]`, records, out);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      if (!records.has(p)) docPaths(x, p, records, out);
    }
  }
  return out;
}

/** Paths whose value is a record (free keys): the example's header names are not schema keys. */
function recordPaths(s: ZodLike, prefix = '', out = new Set<string>()): Set<string> {
  const d = s._zod.def;
  if (d.type === 'record') out.add(prefix);
  if (d.type === 'object') for (const [k, v] of Object.entries(d.shape ?? {})) recordPaths(v, prefix ? `${prefix}.${k}` : k, out);
  const inner = d.innerType ?? d.in ?? (d.element ? d.element : undefined);
  if (inner) recordPaths(inner, d.element ? `${prefix}[]` : prefix, out);
  for (const o of d.options ?? []) recordPaths(o, prefix, out);
  return out;
}

const schema = configSchema as unknown as ZodLike;
const text = readFileSync(EXAMPLE, 'utf8');
const keys = schemaPaths(schema);
const inExample = docPaths(YAML.parse(text), '', recordPaths(schema));

t.test('the schema walk finds the keys it must (so an empty walk cannot pass)', async (t) => {
  t.ok(keys.size > 300, `${keys.size} key paths in the schema`);
  for (const k of ['box.dataDir', 'calls.recording.notice.textEn', 'wan.links[].targets[].kind', 'power.policy.upsRule.minHealthy', 'firewall.ssh.port']) {
    t.ok(keys.has(k), k);
  }
  t.notOk(keys.has('upstream.webhook.headers.Authorization'), 'a record’s keys are not schema keys');
});

t.test('every schema key is in ops/vaktpost.example.yaml (or commented there on purpose)', async (t) => {
  const missing = [...keys].filter((k) => !inExample.has(k) && !(k in COMMENTED_ON_PURPOSE));
  t.same(missing, [], `missing from the example: ${missing.join(', ') || 'none'} — add each with a short comment`);
  for (const [k, why] of Object.entries(COMMENTED_ON_PURPOSE)) {
    t.ok(keys.has(k), `${k} is still a schema key (else drop it from the list)`);
    const leaf = k.split('.').pop() ?? k;
    t.match(text, new RegExp(`#[^\\n]*\\b${leaf}:`), `${k} is shown as a comment (${why})`);
  }
});

t.test('every key in the example is a schema key', async (t) => {
  const unknown = [...inExample].filter((k) => !keys.has(k));
  t.same(unknown, [], `not in the schema: ${unknown.join(', ') || 'none'}`);
});

t.test('vaktpost check-config accepts the example, with the one secret it takes from the environment', async (t) => {
  const env = { ...process.env, VAKTPOST_UPSTREAM_TOKEN: 'example-token' };
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'check-config', EXAMPLE], { encoding: 'utf8', env });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /vaktpost\.example\.yaml: OK\n$/, 'OK without warnings: a box run with it is not degraded by its config');
});

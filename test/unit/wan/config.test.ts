import t from 'tap';
import { wanConfigSchema } from '../../../supervisor/src/config/wan.js';

const minimal = {
  links: [{ name: 'wan1', interface: 'eth1', sourceAddress: '100.64.1.2', targets: [{ kind: 'udp', host: '198.18.0.1', port: 7 }] }],
};

t.test('defaults are the documented ones', async (t) => {
  const c = wanConfigSchema.parse(minimal);
  t.equal(c.intervalMs, 100);
  t.equal(c.downAfter, 6);
  t.equal(c.upAfter, 10);
  t.same(c.timeout, { floorMs: 250, capMs: 2000, initialMs: 1000, marginMs: 150 });
  t.equal(c.watchCarrier, true);
  t.equal(c.centres.intervalMs, 500);
  t.equal(c.centres.failAfter, 6);
  t.equal(c.centres.local, undefined);
});

t.test('centre endpoints default to port 5060', async (t) => {
  const c = wanConfigSchema.parse({ ...minimal, centres: { local: { endpoints: [{ host: '10.20.0.10' }] } } });
  t.equal(c.centres.local?.endpoints[0]?.port, 5060);
});

t.test('rejects what would silently misbehave', async (t) => {
  const bad = (patch: object, re: RegExp, what: string) => {
    const r = wanConfigSchema.safeParse({ ...minimal, ...patch });
    t.notOk(r.success, what);
    if (!r.success) t.match(JSON.stringify(r.error.issues), re, what);
  };
  bad({ intervalms: 100 }, /intervalms/, 'unknown key (typo)');
  bad({ links: [] }, /too_small|>=1/, 'no links');
  bad({ links: [minimal.links[0], minimal.links[0]] }, /link names must be unique/, 'duplicate link name');
  bad({ links: [{ ...minimal.links[0], sourceAddress: 'eth1' }] }, /IPv4 address/, 'source address is not an address');
  bad({ links: [{ ...minimal.links[0], name: 'WAN 1' }] }, /signal keys/, 'link name not key-safe');
  bad({ links: [{ ...minimal.links[0], targets: [{ kind: 'icmp', host: '1.1.1.1', port: 1 }] }] }, /kind/, 'unknown probe kind');
  bad({ timeout: { floorMs: 3000, capMs: 2000 } }, /floorMs must not exceed/, 'floor above cap');
});

t.test('check-config warns (does not fail) on a link with fewer than two probe targets', async (t) => {
  const { parseConfigText, formatWarning } = await import('../../../supervisor/src/config/load.js');
  const yaml = [
    'box: { name: t, dataDir: /tmp/x }',
    'wan:',
    '  links:',
    '    - name: wan1',
    '      interface: eth1',
    '      sourceAddress: 100.64.1.2',
    '      targets:',
    '        - { kind: udp, host: 198.18.0.1, port: 7 }',
    '    - name: lte',
    '      interface: wwan0',
    '      sourceAddress: 100.64.2.2',
    '      targets:',
    '        - { kind: udp, host: 198.18.0.1, port: 7 }',
    '        - { kind: udp, host: 203.0.113.10, port: 7 }',
  ].join('\n');
  const r = parseConfigText(yaml, 'vaktpost.yaml');
  t.ok(r.ok, 'still a valid config');
  if (!r.ok) return;
  const wanWarnings = r.warnings.filter((w) => w.path.startsWith('wan.'));
  t.equal(wanWarnings.length, 1, 'only the one-target link');
  const line = formatWarning(wanWarnings[0] as (typeof r.warnings)[number]);
  t.comment(line);
  t.match(line, /^vaktpost\.yaml:8: wan\.links\.0\.targets: warning \(advarsel\): link "wan1" has only 1 probe target/);
  t.match(line, /Add a second target/, 'names the fix (en)');
  t.match(line, /lenke "wan1" har bare 1 målepunkt/, 'and in bokmål');
});

t.test('dns and damping settings have defaults and refuse nonsense', async (t) => {
  const c = wanConfigSchema.parse(minimal);
  t.same(c.dns, { minTtlMs: 5000, maxTtlMs: 300_000, retryMs: 2000, maxRetryMs: 10_000, timeoutMs: 1000, tries: 2 });
  t.equal(c.damping.enabled, true);
  t.notOk(wanConfigSchema.safeParse({ ...minimal, dns: { minTtlMs: 10_000, maxTtlMs: 5000 } }).success);
  t.notOk(wanConfigSchema.safeParse({ ...minimal, damping: { reuseAt: 3000 } }).success);
});

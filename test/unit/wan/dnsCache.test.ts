/**
 * The probe-target DNS cache (hardware/net/dnsCache.ts): TTLs (clamped), stale-on-error,
 * retry back-off, single flight, the getaddrinfo fallback rule, and probes that never
 * wait for DNS. A fake resolver and a fake monotonic clock; no network.
 */
import t from 'tap';
import { type DnsAnswer, DnsCache, type DnsEntry, describeEntry, entryState, type NameResolver } from '../../../hardware/net/dnsCache.js';
import { TargetProber } from '../../../hardware/net/prober.js';
import { assertStopsQuietly, SimClock } from '../../helpers/simClock.js';

function fakeResolver() {
  const calls: { name: string; hadDnsAnswer: boolean }[] = [];
  let answer: ((name: string) => DnsAnswer) | Error = (_name: string) => ({ addresses: ['192.0.2.10'], ttlS: 30, via: 'dns' as const });
  const resolve: NameResolver = async (name, hint) => {
    calls.push({ name, ...hint });
    if (answer instanceof Error) throw answer;
    return answer(name);
  };
  return {
    calls,
    resolve,
    answers: (f: (name: string) => DnsAnswer) => {
      answer = f;
    },
    fails: (code: string) => {
      answer = Object.assign(new Error(code), { code });
    },
  };
}

function setup(timing = {}) {
  let now = 0;
  const r = fakeResolver();
  const changes: DnsEntry[] = [];
  const cache = new DnsCache({
    resolve: r.resolve,
    now: () => now,
    timing: { minTtlMs: 5000, maxTtlMs: 300_000, retryMs: 2000, maxRetryMs: 10_000, ...timing },
    onChange: (e) => changes.push(e),
  });
  cache.watch('centre.example');
  return {
    cache,
    r,
    changes,
    at: (ms: number) => {
      now = ms;
    },
  };
}

t.test('IP literals bypass the cache', async (t) => {
  const { cache } = setup();
  cache.watch('198.51.100.10');
  t.same(cache.names(), ['centre.example']);
  t.equal(cache.addressOf('198.51.100.10'), '198.51.100.10');
  t.equal(cache.addressOf('centre.example'), undefined, 'a name has no address before its first resolution');
});

t.test('TTL: resolved once, re-resolved only when the TTL runs out', async (t) => {
  const { cache, r, at } = setup();
  await cache.refreshDue();
  t.equal(cache.addressOf('centre.example'), '192.0.2.10');
  t.equal(entryState(cache.get('centre.example') as DnsEntry), 'fresh');
  at(29_999);
  await cache.refreshDue();
  t.equal(r.calls.length, 1, 'not before the 30 s TTL');
  r.answers(() => ({ addresses: ['192.0.2.99'], ttlS: 30, via: 'dns' }));
  at(30_000);
  await cache.refreshDue();
  t.equal(r.calls.length, 2, 'at the TTL');
  t.equal(cache.addressOf('centre.example'), '192.0.2.99', 'a changed address is followed');
});

t.test('TTL is clamped: a 0 s TTL is not hammered, a day-long one is re-checked', async (t) => {
  const a = setup();
  a.r.answers(() => ({ addresses: ['192.0.2.1'], ttlS: 0, via: 'dns' }));
  await a.cache.refreshDue();
  t.equal(a.cache.get('centre.example')?.dueAt, 5000, 'TTL 0 → minTtlMs');
  const b = setup();
  b.r.answers(() => ({ addresses: ['192.0.2.1'], ttlS: 86_400, via: 'dns' }));
  await b.cache.refreshDue();
  t.equal(b.cache.get('centre.example')?.dueAt, 300_000, 'TTL 1 day → maxTtlMs, so a DNS outage shows within it');
});

t.test('stale-on-error: a failing resolution keeps the last good address in use and says why', async (t) => {
  const { cache, r, at, changes } = setup();
  await cache.refreshDue();
  r.fails('ETIMEOUT');
  at(30_000);
  await cache.refreshDue();
  const e = cache.get('centre.example') as DnsEntry;
  t.equal(entryState(e), 'stale');
  t.equal(cache.addressOf('centre.example'), '192.0.2.10', 'still the last good address');
  t.equal(e.error?.code, 'ETIMEOUT');
  t.match(e.error?.message, /did not answer/);
  t.match(describeEntry(e, 35_000), /failing for 5 s.*still probing the last good address 192\.0\.2\.10/);
  t.equal(changes.length, 2, 'the first success and the first failure are changes');
  // The retry backs off 2, 4, 8, 10, 10 s; the failure's start is kept.
  const dues: number[] = [];
  let now = 30_000;
  for (let i = 0; i < 5; i++) {
    now = cache.get('centre.example')?.dueAt as number;
    dues.push(now);
    at(now);
    await cache.refreshDue();
  }
  t.same(
    dues.map((d, i) => d - (i === 0 ? 30_000 : (dues[i - 1] as number))),
    [2000, 4000, 8000, 10_000, 10_000],
  );
  t.equal(cache.get('centre.example')?.error?.since, 30_000);
  t.equal(changes.length, 2, 'repeated failures with the same cause are not new changes');
  t.equal(cache.addressOf('centre.example'), '192.0.2.10', 'never dropped');
  // DNS back: fresh again, one change.
  r.answers(() => ({ addresses: ['192.0.2.10'], ttlS: 30, via: 'dns' }));
  at(now + 10_000);
  await cache.refreshDue();
  t.equal(entryState(cache.get('centre.example') as DnsEntry), 'fresh');
  t.equal(changes.length, 3);
});

t.test('a name that never resolved: no address, state none, and the fallback hint says so', async (t) => {
  const { cache, r } = setup();
  r.fails('ETIMEOUT');
  await cache.refreshDue();
  const e = cache.get('centre.example') as DnsEntry;
  t.equal(entryState(e), 'none');
  t.equal(cache.addressOf('centre.example'), undefined);
  t.match(cache.whyNoAddress('centre.example'), /did not answer/);
  t.equal(r.calls[0]?.hadDnsAnswer, false, 'never had a DNS answer: the resolver may try /etc/hosts');
  r.answers(() => ({ addresses: ['192.0.2.10'], ttlS: 30, via: 'dns' }));
  await cache.refresh('centre.example');
  r.fails('ETIMEOUT');
  await cache.refresh('centre.example');
  t.equal(r.calls.at(-1)?.hadDnsAnswer, true, 'after a DNS answer a timeout is a DNS fault: no getaddrinfo');
});

t.test('one resolution per name in flight', async (t) => {
  let release!: () => void;
  let calls = 0;
  const cache = new DnsCache({
    resolve: () => {
      calls++;
      return new Promise((res) => {
        release = () => res({ addresses: ['192.0.2.1'], ttlS: 60, via: 'dns' });
      });
    },
    now: () => 0,
  });
  cache.watch('a.example');
  const p1 = cache.refresh('a.example');
  const p2 = cache.refresh('a.example');
  void cache.refreshDue();
  t.equal(calls, 1);
  release();
  t.equal(await p1, await p2);
});

t.test('a /etc/hosts answer carries the assumed TTL and is marked as such', async (t) => {
  const { cache, r } = setup();
  r.answers(() => ({ addresses: ['10.0.0.5'], ttlS: 60, via: 'hosts' }));
  await cache.refreshDue();
  t.match(describeEntry(cache.get('centre.example') as DnsEntry, 0), /10\.0\.0\.5 \(from \/etc\/hosts\)/);
});

t.test('probes read the cache and never wait for DNS; an unresolved name is not a lost probe', async (t) => {
  const { cache } = setup();
  const prober = new TargetProber({ kind: 'udp', host: 'centre.example', port: 7 }, undefined, { floorMs: 250, capMs: 2000, initialMs: 1000 }, cache);
  const r = await prober.probe();
  t.equal(r.unresolved, true);
  t.equal(r.answered, false);
  t.match(r.detail, /not probed: no address for centre\.example \(not resolved yet\)/);
});

t.test('started on simulated time: re-resolves when each TTL runs out, and nothing after stop', async (t) => {
  const clock = new SimClock();
  const r = fakeResolver();
  r.answers(() => ({ addresses: ['192.0.2.10'], ttlS: 30, via: 'dns' as const }));
  const cache = new DnsCache({
    resolve: r.resolve,
    now: () => clock.monotonic(),
    timers: clock,
    timing: { minTtlMs: 5000, maxTtlMs: 300_000, retryMs: 2000, maxRetryMs: 10_000 },
  });
  cache.watch('centre.example');
  cache.start(250);
  await clock.advance(0);
  t.equal(r.calls.length, 1, 'resolved at start');
  await clock.advance(29_999);
  t.equal(r.calls.length, 1, 'not again before the 30 s TTL has run out');
  await clock.advance(300);
  t.equal(r.calls.length, 2, 'again within one 250 ms check of the TTL running out');
  await clock.advance(3_600_000 - 30_299);
  t.equal(r.calls.length, 121, `an hour: at 0 s and once every 30 s after (found ${r.calls.length})`);
  await assertStopsQuietly(
    t,
    clock,
    async () => cache.stop(),
    () => r.calls.length,
  );
});

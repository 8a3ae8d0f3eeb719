/**
 * The two rules of issue #17's auth slice, without a server: the cross-origin
 * rule (origin.ts) and the login throttle's counting (auth.ts). The attacks on
 * the real supervisor are in test/security/auth-*.test.ts.
 */
import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { LOGIN_FREE_ATTEMPTS, LoginThrottle } from '../../../supervisor/src/api/auth.js';
import { crossOriginRefusal, ownOrigin } from '../../../supervisor/src/api/origin.js';

const req = (headers: Record<string, string>, tls = false) => ({ headers, socket: { encrypted: tls } }) as unknown as IncomingMessage;

t.test('the box’s own origin: scheme of the connection + Host', async (t) => {
  t.equal(ownOrigin(req({ host: 'box.local:8080' })), 'http://box.local:8080');
  t.equal(ownOrigin(req({ host: 'Box.Local:443' }, true)), 'https://box.local', 'default port and case normalised');
  t.equal(ownOrigin(req({})), null, 'no Host, no origin');
  t.equal(crossOriginRefusal(req({ host: 'box.local:8080', origin: 'http://box.local:8080' })), null, 'own origin passes');
  t.equal(crossOriginRefusal(req({ host: 'box.local', origin: 'http://BOX.local:80' })), null, 'same origin spelled differently passes');
  t.equal(crossOriginRefusal(req({ host: 'box.local:8080' })), null, 'no Origin, no Sec-Fetch-Site (curl, CLI) passes');
  t.equal(crossOriginRefusal(req({ host: 'box.local:8080', 'sec-fetch-site': 'same-origin' })), null, 'Sec-Fetch-Site same-origin passes');
  for (const [h, why] of [
    [{ host: 'box.local:8080', origin: 'http://box.local:9090' }, 'other port'],
    [{ host: 'box.local:8080', origin: 'https://box.local:8080' }, 'other scheme'],
    [{ host: 'box.local:8080', origin: 'http://evil.example:8080' }, 'other host'],
    [{ host: 'box.local:8080', origin: 'null' }, 'opaque origin'],
    [{ host: 'box.local:8080', origin: 'not a url' }, 'garbage'],
    [{ origin: 'http://box.local:8080' }, 'Origin without Host'],
    [{ host: 'box.local:8080', 'sec-fetch-site': 'same-site' }, 'Sec-Fetch-Site same-site'],
    [{ host: 'box.local:8080', 'sec-fetch-site': 'cross-site' }, 'Sec-Fetch-Site cross-site'],
  ] as const) {
    t.match(crossOriginRefusal(req(h)), /cross-origin request refused.*\(forespørsel fra annen opprinnelse avvist/, `refused: ${why}`);
  }
  t.equal(crossOriginRefusal(req({ host: 'box.local:8443', origin: 'https://box.local:8443' }, true)), null, 'TLS: https origin passes');
  t.ok(crossOriginRefusal(req({ host: 'box.local:8443', origin: 'http://box.local:8443' }, true)), 'TLS: http origin refused');
});

t.test('the throttle counts before the check and lets a trusted claimant past an account lockout', async (t) => {
  let now = 1_000_000;
  const th = new LoginThrottle(() => now);
  const stranger = { address: '10.0.0.66', username: 'per', trusted: false };
  const waits = Array.from({ length: 20 }, () => th.begin(stranger));
  t.same(
    waits.map((w) => w > 0),
    [...Array(LOGIN_FREE_ATTEMPTS).fill(false), ...Array(20 - LOGIN_FREE_ATTEMPTS).fill(true)],
    'a burst (no outcome reported in between) gets the allowance, then waits',
  );
  t.equal(waits[LOGIN_FREE_ATTEMPTS], 1000, 'the first wait is 1 s');
  t.ok(th.begin({ address: '10.0.0.7', username: 'per', trusted: false }) > 0, 'the account is locked for an unknown address');
  const per = { address: '10.0.0.7', username: 'per', trusted: true };
  t.equal(th.begin(per), 0, 'not for a trusted one (known address or live session)');
  th.succeeded(per);
  t.equal(th.begin({ address: '10.0.0.8', username: 'per', trusted: false }), 0, 'her success cleared the account counter');
  t.ok(th.begin(stranger) > 0, "but not the stranger's address");
  t.ok(th.begin({ ...stranger, username: 'kari' }) > 0, 'which stays locked for every account');
  now += 1000;
  t.equal(th.begin(stranger), 0, 'after the wait, one more attempt');
  t.equal(th.begin(stranger), 2000, 'then the wait doubles');
  now += 3600_000;
  t.equal(th.begin(stranger), 0, 'an hour without attempts forgets the address');
});

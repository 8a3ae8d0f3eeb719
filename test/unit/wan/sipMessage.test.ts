import t from 'tap';
import { buildOptionsRequest, parseSipResponse } from '../../../hardware/net/sipOptions.js';

t.test('OPTIONS request carries a unique branch, Call-ID and an rport Via', async (t) => {
  const req = buildOptionsRequest({
    uri: 'sip:198.51.100.10:5060',
    localIp: '100.64.1.2',
    localPort: 40000,
    branch: 'z9hG4bKabc',
    callId: 'cid@vaktpost',
    fromTag: 'ft',
    toUri: 'sip:198.51.100.10:5060',
  });
  const lines = req.split('\r\n');
  t.equal(lines[0], 'OPTIONS sip:198.51.100.10:5060 SIP/2.0');
  t.ok(lines.includes('Via: SIP/2.0/UDP 100.64.1.2:40000;branch=z9hG4bKabc;rport'));
  t.ok(lines.includes('Call-ID: cid@vaktpost'));
  t.ok(lines.includes('CSeq: 1 OPTIONS'));
  t.ok(lines.includes('Max-Forwards: 70'));
  t.ok(lines.includes('Content-Length: 0'));
  t.ok(req.endsWith('\r\n\r\n'), 'headers end with an empty line');
});

t.test('IPv6 addresses are bracketed', async (t) => {
  const req = buildOptionsRequest({
    uri: 'sip:[2001:db8::1]:5060',
    localIp: '2001:db8::2',
    localPort: 5,
    branch: 'z9hG4bKx',
    callId: 'c',
    fromTag: 'f',
    toUri: 'sip:[2001:db8::1]:5060',
  });
  t.match(req, /Via: SIP\/2\.0\/UDP \[2001:db8::2\]:5;/);
  t.match(req, /From: <sip:vaktpost@\[2001:db8::2\]>;tag=f/);
});

t.test('parses a response: status, reason, Call-ID and the top Via branch', async (t) => {
  const res = [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 100.64.1.2:40000;branch=z9hG4bKabc;rport=40000;received=100.64.1.2',
    'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKother',
    'From: <sip:vaktpost@100.64.1.2>;tag=ft',
    'To: <sip:198.51.100.10:5060>;tag=123',
    'Call-ID: cid@vaktpost',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  t.same(parseSipResponse(res), { status: 200, reason: 'OK', callId: 'cid@vaktpost', branch: 'z9hG4bKabc' });
});

t.test('compact headers and non-2xx still parse', async (t) => {
  const res = 'SIP/2.0 404 Not Here\r\nv: SIP/2.0/UDP 1.2.3.4:5060;rport;branch=z9hG4bKq\r\ni: abc\r\n\r\n';
  t.same(parseSipResponse(res), { status: 404, reason: 'Not Here', callId: 'abc', branch: 'z9hG4bKq' });
});

t.test('requests and garbage are not responses', async (t) => {
  t.equal(parseSipResponse('OPTIONS sip:x SIP/2.0\r\n\r\n'), undefined);
  t.equal(parseSipResponse('hello'), undefined);
  t.equal(parseSipResponse(''), undefined);
});

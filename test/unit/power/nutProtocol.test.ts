import fc from 'fast-check';
import t from 'tap';
import { errFromLine, formatRequest, NutError, parseUpsStatus, parseVarList, quoteArg, tokenizeLine } from '../../../hardware/nut/index.js';

t.test('quoteArg leaves plain words alone and quotes/escapes the rest', async (t) => {
  t.equal(quoteArg('ups1'), 'ups1');
  t.equal(quoteArg('ups.status'), 'ups.status');
  t.equal(quoteArg('OB LB'), '"OB LB"');
  t.equal(quoteArg(''), '""');
  t.equal(quoteArg('s3cr"et'), '"s3cr\\"et"');
  t.equal(quoteArg('back\\slash'), '"back\\\\slash"');
  t.equal(quoteArg('#hash'), '"#hash"');
  t.throws(() => quoteArg('two\nlines'), /line break/);
  t.equal(formatRequest(['PASSWORD', 'a b"c']), 'PASSWORD "a b\\"c"');
});

t.test('tokenizeLine reads upsd replies', async (t) => {
  t.same(tokenizeLine('VAR ups1 ups.status "OB LB"'), ['VAR', 'ups1', 'ups.status', 'OB LB']);
  t.same(tokenizeLine('VAR ups1 ups.mfr "Foo \\"Q\\" back\\\\slash"'), ['VAR', 'ups1', 'ups.mfr', 'Foo "Q" back\\slash']);
  t.same(tokenizeLine('VAR ups1 x ""'), ['VAR', 'ups1', 'x', '']);
  t.same(tokenizeLine('ERR DATA-STALE'), ['ERR', 'DATA-STALE']);
  t.same(tokenizeLine('  OK   Goodbye '), ['OK', 'Goodbye']);
  t.throws(() => tokenizeLine('VAR ups1 x "unterminated'), /unterminated quote/);
});

t.test('formatRequest → tokenizeLine round-trips any words without line breaks', async (t) => {
  const word = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 6 }), (words) => {
      t.same(tokenizeLine(formatRequest(words)), words);
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('errFromLine keeps the code, names the request and the fix, hides passwords', async (t) => {
  const e = errFromLine(['ERR', 'DATA-STALE'], 'LIST VAR ups1', '127.0.0.1:3493');
  t.ok(e instanceof NutError);
  t.equal(e.code, 'DATA-STALE');
  t.ok(e.isServerError);
  t.match(e.message, /127\.0\.0\.1:3493.*ERR DATA-STALE.*LIST VAR ups1.*driver stopped updating/);
  const p = errFromLine(['ERR', 'INVALID-ARGUMENT'], 'PASSWORD "hemmelig"', 'h:1');
  t.notMatch(p.message, /hemmelig/);
  t.match(p.message, /PASSWORD \*\*\*/);
  t.equal(errFromLine(['ERR', 'SOMETHING-NEW', 'extra', 'words'], 'VER', 'h:1').code, 'SOMETHING-NEW');
  t.notOk(new NutError('TIMEOUT', 'x').isServerError);
});

t.test('parseVarList builds the map and rejects foreign lines', async (t) => {
  const m = parseVarList(
    [
      ['VAR', 'ups1', 'ups.status', 'OL'],
      ['VAR', 'ups1', 'battery.charge', '100'],
    ],
    'ups1',
  );
  t.equal(m.get('ups.status'), 'OL');
  t.equal(m.get('battery.charge'), '100');
  t.throws(() => parseVarList([['VAR', 'ups2', 'ups.status', 'OL']], 'ups1'), /unexpected line/);
  t.throws(() => parseVarList([['VAR', 'ups1', 'ups.status']], 'ups1'), /unexpected line/);
});

t.test('parseUpsStatus flags', async (t) => {
  const s = parseUpsStatus('OB LB DISCHRG');
  t.ok(s.onBattery && s.lowBattery);
  t.notOk(s.online || s.fsd || s.waiting);
  t.ok(parseUpsStatus('FSD OB LB').fsd);
  t.ok(parseUpsStatus('WAIT').waiting);
  t.ok(parseUpsStatus('OL CHRG').online);
  t.equal(parseUpsStatus('').flags.size, 0);
});

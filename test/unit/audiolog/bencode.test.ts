import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { type BencodeValue, decodeBencode, encodeBencode } from '../../../hardware/rtpengine/bencode.js';

t.test('encodes what rtpengine expects (sorted keys, byte lengths)', async (t) => {
  t.equal(encodeBencode({ command: 'ping' }).toString(), 'd7:command4:pinge');
  t.equal(encodeBencode({ b: 1, a: ['x', -3] }).toString(), 'd1:al1:xi-3ee1:bi1ee');
  t.equal(encodeBencode('blå').toString('latin1'), '4:bl\xc3\xa5', 'length in bytes, not characters');
  t.equal(encodeBencode(true).toString(), '3:yes');
  t.throws(() => encodeBencode(1.5), /integers only/);
});

t.test('decodes rtpengine answers', async (t) => {
  t.same(decodeBencode(Buffer.from('d6:result4:ponge')), { result: 'pong' });
  t.same(decodeBencode(Buffer.from('d6:result5:error12:error-reason15:Unknown call-ide')), { result: 'error', 'error-reason': 'Unknown call-id' });
  t.same(decodeBencode(Buffer.from('d5:callsl7:call2@xe6:result2:oke')), { calls: ['call2@x'], result: 'ok' });
  const raw = decodeBencode(Buffer.from('3:abc'), { raw: true });
  t.ok(Buffer.isBuffer(raw), 'raw keeps Buffers');
});

t.test('malformed input is an error, never a guess', async (t) => {
  for (const bad of ['d6:result', 'i12', '5:abc', 'x', 'i1ei2e', 'le1', 'ia5e']) {
    t.throws(() => decodeBencode(Buffer.from(bad)), { name: 'BencodeError' }, JSON.stringify(bad));
  }
});

t.test('round trip (property)', async (t) => {
  const value: fc.Arbitrary<BencodeValue> = fc.letrec<{ v: BencodeValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.integer(),
      fc.string(),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('v'), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).v;
  fc.assert(fc.property(value, (v) => isDeepStrictEqual(decodeBencode(encodeBencode(v)), v)));
  t.pass('decode(encode(v)) = v');
});

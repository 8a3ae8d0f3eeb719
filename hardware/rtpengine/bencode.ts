/**
 * Bencode, the encoding of rtpengine's "ng" control protocol (dictionaries,
 * lists, integers and byte strings). Strings are decoded as UTF-8 by default:
 * every value rtpengine returns that we read (result, error-reason, SDP,
 * file names) is text; `decodeBencode(buf, { raw: true })` keeps Buffers.
 */

export type BencodeValue = number | string | Buffer | BencodeValue[] | { [key: string]: BencodeValue };

export function encodeBencode(v: BencodeValue | boolean): Buffer {
  const parts: Buffer[] = [];
  const walk = (x: BencodeValue | boolean): void => {
    if (typeof x === 'boolean') {
      // ng flags are strings; a boolean is written the way rtpengine spells it.
      walk(x ? 'yes' : 'no');
    } else if (typeof x === 'number') {
      if (!Number.isInteger(x)) throw new Error(`bencode integers only, got ${x}`);
      parts.push(Buffer.from(`i${x}e`));
    } else if (typeof x === 'string' || Buffer.isBuffer(x)) {
      const b = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
      parts.push(Buffer.from(`${b.length}:`), b);
    } else if (Array.isArray(x)) {
      parts.push(Buffer.from('l'));
      for (const e of x) walk(e);
      parts.push(Buffer.from('e'));
    } else {
      parts.push(Buffer.from('d'));
      // Keys sorted by raw bytes (the bencode rule; rtpengine does not insist, others do).
      for (const k of Object.keys(x).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
        const val = x[k];
        if (val === undefined) continue;
        walk(k);
        walk(val);
      }
      parts.push(Buffer.from('e'));
    }
  };
  walk(v);
  return Buffer.concat(parts);
}

export class BencodeError extends Error {
  override name = 'BencodeError';
}

/** Decode one bencoded value; throws BencodeError on malformed or trailing input. */
export function decodeBencode(buf: Buffer, opts: { raw?: boolean } = {}): BencodeValue {
  let i = 0;
  const fail = (why: string): never => {
    throw new BencodeError(`malformed bencode at byte ${i}: ${why}`);
  };
  const readValue = (depth: number): BencodeValue => {
    if (depth > 64) fail('nested too deep');
    const c = buf[i];
    if (c === undefined) return fail('unexpected end');
    if (c === 0x69 /* i */) {
      const end = buf.indexOf(0x65, i + 1);
      if (end < 0) fail('unterminated integer');
      const s = buf.toString('latin1', i + 1, end);
      if (!/^-?\d+$/.test(s)) fail(`bad integer "${s}"`);
      i = end + 1;
      return Number(s);
    }
    if (c === 0x6c /* l */) {
      i++;
      const out: BencodeValue[] = [];
      while (buf[i] !== 0x65) {
        if (i >= buf.length) fail('unterminated list');
        out.push(readValue(depth + 1));
      }
      i++;
      return out;
    }
    if (c === 0x64 /* d */) {
      i++;
      const out: { [key: string]: BencodeValue } = {};
      while (buf[i] !== 0x65) {
        if (i >= buf.length) fail('unterminated dictionary');
        const k = readString();
        out[k.toString('utf8')] = readValue(depth + 1);
      }
      i++;
      return out;
    }
    const s = readString();
    return opts.raw ? s : s.toString('utf8');
  };
  const readString = (): Buffer => {
    const colon = buf.indexOf(0x3a, i);
    if (colon < 0) fail('string without length');
    const lenText = buf.toString('latin1', i, colon);
    if (!/^\d+$/.test(lenText)) fail(`bad string length "${lenText}"`);
    const len = Number(lenText);
    const start = colon + 1;
    if (start + len > buf.length) fail(`string of ${len} bytes runs past the end`);
    i = start + len;
    return buf.subarray(start, start + len);
  };
  const v = readValue(0);
  if (i !== buf.length) fail(`${buf.length - i} trailing bytes`);
  return v;
}

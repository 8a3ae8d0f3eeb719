/**
 * G.711 (µ-law / A-law) decoding to 16-bit linear PCM. Every G.711 code maps to
 * exactly one linear value, so a decoded file still carries what was on the wire
 * bit for bit (re-encoding gives the same codes back, except µ-law's two zeros).
 */

export type G711 = 'mulaw' | 'alaw';

/** The code for silence: µ-law 0xFF (+0), A-law 0xD5 (+8, the usual idle pattern). */
export const SILENCE: Record<G711, number> = { mulaw: 0xff, alaw: 0xd5 };

function ulawToLinear(u: number): number {
  const x = ~u & 0xff;
  const sign = x & 0x80;
  const exponent = (x >> 4) & 0x07;
  const mantissa = x & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

function alawToLinear(a: number): number {
  const x = a ^ 0x55;
  const sign = x & 0x80;
  const exponent = (x >> 4) & 0x07;
  const mantissa = x & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  magnitude = Math.min(magnitude, 32767);
  return sign ? magnitude : -magnitude;
}

export const ULAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => ulawToLinear(i));
export const ALAW_TO_LINEAR: Int16Array = Int16Array.from({ length: 256 }, (_, i) => alawToLinear(i));

export function decodeTable(codec: G711): Int16Array {
  return codec === 'mulaw' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
}

/** Linear 16-bit → µ-law (G.711, with the usual bias and clipping). */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/**
 * Known audio for the recording test call: a fixed sequence of tones (no noise,
 * no randomness), so the archived caller channel can be compared byte for byte.
 */
export function knownAudio(durationMs: number): Buffer {
  const n = Math.round((durationMs / 1000) * 8000);
  const out = Buffer.alloc(n);
  const freqs = [440, 660, 880, 550, 770];
  for (let i = 0; i < n; i++) {
    const f = freqs[Math.floor(i / 1600) % freqs.length] as number;
    out[i] = linearToUlaw(8000 * Math.sin((2 * Math.PI * f * i) / 8000));
  }
  return out;
}

/**
 * rtpengine's per-call metadata file (recording-method=pcap). Written to
 * `<spool>/tmp/rtpengine-meta-<escaped Call-ID>-<hex>.tmp` while the call is
 * recorded, renamed to `<spool>/metadata/…txt` when rtpengine deletes the call
 * (the atomic "done" signal). Layout (rtpengine 10.5):
 *
 *   <pcap path>
 *   (blank) (blank)
 *   Timestamp started ms: <epoch ms>      ┐ one block per SDP rtpengine sent
 *   SDP mode: offer|answer                │ (the REWRITTEN SDP: its ports are
 *   SDP before RTP packet: 1              │ rtpengine's own, so they tell which
 *   (blank) <SDP lines>                   ┘ side a captured packet came from)
 *   Timestamp terminated ms(first monologue): <epoch ms>
 *   call start time: <local ISO>  /  call end time: <local ISO>
 *   (blank) (blank)
 *   <the `metadata` string given at offer/answer — the last one wins>
 *
 * The tmp file has no end time and no metadata string (both are written at the end).
 */

export interface SdpBlock {
  mode: string;
  startedMs: number;
  /** Audio ports rtpengine offered in this SDP (what the other side sends to). */
  audioPorts: number[];
  /** Connection address of the audio (c= line). */
  address: string | null;
  /** rtpmap payload type → encoding name, e.g. 0 → PCMU/8000. */
  rtpmap: Record<number, string>;
  /** Payload types of the m=audio line, in preference order. */
  payloadTypes: number[];
}

export interface RecordingMetadata {
  pcapPath: string;
  sdps: SdpBlock[];
  terminatedMs: number | null;
  callStart: string | null;
  callEnd: string | null;
  /** The offer/answer `metadata` string, verbatim (null while in progress). */
  metadata: string | null;
}

const TS = /^Timestamp started ms:\s*([\d.]+)/;
const TERM = /^Timestamp terminated ms[^:]*:\s*([\d.]+)/;

export function parseMetadataFile(text: string): RecordingMetadata {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const pcapPath = (lines[0] ?? '').trim();
  const sdps: SdpBlock[] = [];
  let terminatedMs: number | null = null;
  let callStart: string | null = null;
  let callEnd: string | null = null;
  const tail: string[] = [];
  let cur: SdpBlock | null = null;
  let inTail = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (inTail) {
      if (l.trim() !== '') tail.push(l);
      continue;
    }
    const started = TS.exec(l);
    const terminated = started ? null : TERM.exec(l);
    if (started) {
      cur = { mode: '', startedMs: Number(started[1]), audioPorts: [], address: null, rtpmap: {}, payloadTypes: [] };
      sdps.push(cur);
    } else if (terminated) {
      terminatedMs = Number(terminated[1]);
      cur = null;
    } else if (l.startsWith('SDP mode:') && cur) {
      cur.mode = l.slice('SDP mode:'.length).trim();
    } else if (l.startsWith('call start time:')) {
      callStart = l.slice('call start time:'.length).trim();
      cur = null;
    } else if (l.startsWith('call end time:')) {
      callEnd = l.slice('call end time:'.length).trim();
      inTail = true;
    } else if (cur && /^[a-z]=/.test(l)) {
      const audio = /^m=audio (\d+)(?:\/\d+)? \S+((?: \d+)*)/.exec(l);
      if (audio) {
        cur.audioPorts.push(Number(audio[1]));
        cur.payloadTypes = (audio[2] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
      }
      const c = /^c=IN IP[46] (\S+)/.exec(l);
      if (c && cur.address === null) cur.address = c[1] ?? null;
      const rm = /^a=rtpmap:(\d+) (\S+)/.exec(l);
      if (rm) cur.rtpmap[Number(rm[1])] = rm[2] as string;
    }
  }
  return { pcapPath, sdps, terminatedMs, callStart, callEnd, metadata: tail.length > 0 ? tail.join('\n') : null };
}

/** `rtpengine-meta-<escaped Call-ID>-<hex>.txt|.tmp` → the Call-ID (URL-unescaped), or null. */
export function callIdFromSpoolName(name: string): string | null {
  const m = /^rtpengine-meta-(.+)-[0-9a-f]{16}\.(?:txt|tmp)$/.exec(name);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return m[1] as string;
  }
}

/**
 * Vaktpost's metadata string: `vaktpost=1|key=hex|…` — values hex-encoded by the
 * Kamailio cfg (`{s.encode.hexa}`), so a caller number can never inject a field
 * or a space (rtpengine's flag parser splits on spaces).
 */
export function parseVaktpostMetadata(s: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  const line = s.split('\n').find((l) => l.startsWith('vaktpost=')) ?? '';
  for (const part of line.split('|')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === 'vaktpost') continue;
    out[k] = /^(?:[0-9a-fA-F]{2})*$/.test(v) ? Buffer.from(v, 'hex').toString('utf8') : v;
  }
  return out;
}

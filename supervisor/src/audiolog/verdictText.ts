/**
 * What the judge says about a recording, as message keys with parameters, and
 * their text in English and Norwegian bokmål. The keys and parameters go into
 * the recording's summary (so a UI can word them its own way); the rendered
 * texts go into the alarms, the audit's detail and the chain-backed summary.
 */
import type { Side } from './convert.js';

export interface NoteParams {
  side?: Side;
  /** Packets rtpengine received from `side`, and how many of them the recording holds. */
  sent?: number;
  recorded?: number;
  /** Seconds, one decimal. */
  capturedS?: string;
  connectedS?: string;
  /** ISO time of an rtpengine restart. */
  at?: string;
}

type Text = (p: NoteParams) => string;

const SIDE: Record<Side, { en: string; nb: string }> = {
  caller: { en: 'caller', nb: 'innringeren' },
  callTaker: { en: 'call-taker', nb: 'operatøren ved sentralen' },
};
const other = (s: Side | undefined): Side => (s === 'caller' ? 'callTaker' : 'caller');
const en = (s: Side | undefined) => SIDE[s ?? 'caller'].en;
const nb = (s: Side | undefined) => SIDE[s ?? 'caller'].nb;

export const NOTES = {
  /** One side sent no media at all (rtpengine received none): a faithful recording of a one-way call. */
  'recording.oneSided': {
    en: (p) => `one-sided: the ${en(p.side)} sent no audio during the call (rtpengine received none); only the ${en(other(p.side))} is recorded`,
    nb: (p) => `énveis: ${nb(p.side)} sendte ingen lyd i samtalen (rtpengine mottok ingen); bare ${nb(other(p.side))} er tatt opp`,
  },
  'recording.sentNotRecorded': {
    en: (p) => `media was sent but not recorded: rtpengine received ${p.sent} packets from the ${en(p.side)}, the recording holds ${p.recorded}`,
    nb: (p) => `lyd ble sendt, men ikke tatt opp: rtpengine mottok ${p.sent} pakker fra ${nb(p.side)}, opptaket har ${p.recorded}`,
  },
  'recording.nothingSent': {
    en: () => 'neither side sent any audio (rtpengine received no RTP) for an answered call',
    nb: () => 'ingen av partene sendte lyd (rtpengine mottok ingen RTP) i en besvart samtale',
  },
  'recording.noAudio': {
    en: () => 'no audio was captured for an answered call',
    nb: () => 'ingen lyd ble tatt opp i en besvart samtale',
  },
  'recording.cutOffRestart': {
    en: (p) => `the recording file is cut off inside a packet where rtpengine was restarted (${p.at})`,
    nb: (p) => `opptaksfilen slutter midt i en pakke der rtpengine ble startet på nytt (${p.at})`,
  },
  'recording.cutOffWrite': {
    en: () => 'the recording file is cut off inside a packet although rtpengine finished it: writing to the spool failed (disk full or I/O error)',
    nb: () => 'opptaksfilen slutter midt i en pakke selv om rtpengine avsluttet den: skriving til spoolen feilet (full disk eller I/O-feil)',
  },
  'recording.cutOffStopped': {
    en: () => 'the recording file is cut off inside a packet: rtpengine stopped while writing (killed or crashed)',
    nb: () => 'opptaksfilen slutter midt i en pakke: rtpengine stoppet mens den skrev (drept eller krasjet)',
  },
  'recording.stoppedRestart': {
    en: (p) => `rtpengine stopped during the call: it was restarted (${p.at}); the recording ends where it stopped`,
    nb: (p) => `rtpengine stoppet under samtalen: den ble startet på nytt (${p.at}); opptaket slutter der den stoppet`,
  },
  'recording.stopped': {
    en: () => 'rtpengine stopped during the call: the recording ends where it stopped',
    nb: () => 'rtpengine stoppet under samtalen: opptaket slutter der den stoppet',
  },
  'recording.short': {
    en: (p) => `only ${p.capturedS} s of audio for a ${p.connectedS} s call`,
    nb: (p) => `bare ${p.capturedS} s lyd for en samtale på ${p.connectedS} s`,
  },
} satisfies Record<string, { en: Text; nb: Text }>;

export type NoteKey = keyof typeof NOTES;

export interface Note {
  key: NoteKey;
  params: NoteParams;
}

export function noteText(n: Note): { en: string; nb: string } {
  const t = NOTES[n.key];
  return { en: t.en(n.params), nb: t.nb(n.params) };
}

/** The side's name in both languages (for event texts that name a side). */
export function sideName(s: Side): { en: string; nb: string } {
  return SIDE[s];
}

/**
 * The figures' definitions, printed with every report (bokmål and English), so
 * whoever reads the numbers knows exactly what was counted. They describe what
 * supervisor/src/core/evidence.ts computes — change both together.
 */
import type { EvidenceConfig } from '../config/evidence.js';

export interface Definition {
  term: { nb: string; en: string };
  text: { nb: string; en: string };
}

const fmtS = (s: number) => (s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`);

export function definitions(cfg: EvidenceConfig): Definition[] {
  const a = cfg.availability;
  const t = cfg.answerTime;
  return [
    {
      term: { nb: 'Anrop (tilbudt)', en: 'Offered call' },
      text: {
        nb: `Et anrop som kom inn til boksen (Kamailio mottok INVITE). Boksens egne kontrollanrop og anrop der innringer la på før ${fmtS(a.shortAbandonS)} telles ikke.`,
        en: `A call that reached the box (Kamailio received the INVITE). The box's own test calls and calls the caller hung up within ${fmtS(a.shortAbandonS)} are not counted.`,
      },
    },
    {
      term: { nb: 'Besvart', en: 'Answered (served)' },
      text: {
        nb: 'Anropet ble besvart av lokal sentral eller reservesentral (SIP 200 OK videresendt til innringer).',
        en: 'The call was answered by the local or the backup centre (SIP 200 OK relayed to the caller).',
      },
    },
    {
      term: { nb: 'Ubesvart', en: 'Unanswered (unserved)' },
      text: {
        nb: `Anropet fikk talemeldingen («ring 113»), ble avvist, innringer ga opp etter å ha ventet minst ${fmtS(a.shortAbandonS)}, eller ingen utfall ble registrert innen ${fmtS(a.lostAfterS)} (tapt). Opptatt eller ikke svar regnes som nedetid (KoKom).`,
        en: `The call got the announcement ("call 113"), was rejected, the caller gave up after waiting at least ${fmtS(a.shortAbandonS)}, or no outcome was recorded within ${fmtS(a.lostAfterS)} (lost). Busy or no answer counts as downtime (KoKom).`,
      },
    },
    {
      term: { nb: 'Ventetid', en: 'Wait' },
      text: {
        nb: 'Fra Kamailio mottok anropet til det ble besvart, eller – for et ubesvart anrop – til innringer sluttet å vente (la på, fikk talemeldingen eller ble avvist). Svar fra sentralens eget kø-/talesvar regnes som svar.',
        en: "From Kamailio receiving the call to its answer, or — for an unanswered call — to the moment the caller stopped waiting (hung up, got the announcement, was rejected). An answer by the centre's own queue/IVR counts as an answer.",
      },
    },
    {
      term: { nb: 'Tilgjengelighet', en: 'Availability' },
      text: {
        nb: `Perioden deles i intervaller på ${fmtS(a.bucketS)} fra lokal midnatt (${cfg.timeZone}). Et intervall er nede hvis et ubesvart anrop kom inn i det eller et utfall (${a.outageSignals.join(', ')} feilet/ukjent) overlapper det; oppe hvis Vaktpost overvåket hele intervallet og det ikke er nede; ellers ikke observert. Tilgjengelighet = oppe / alle intervaller. Ikke observert tid regnes ikke som tilgjengelig. Mål: ${a.targetPercent} %.`,
        en: `The period is cut into intervals of ${fmtS(a.bucketS)} from local midnight (${cfg.timeZone}). An interval is down if an unanswered call arrived in it or an outage (${a.outageSignals.join(', ')} failed/unknown) overlaps it; up if Vaktpost watched the whole interval and it is not down; otherwise not observed. Availability = up / all intervals. Time not observed is not claimed as available. Target: ${a.targetPercent} %.`,
      },
    },
    {
      term: { nb: 'Svartid', en: 'Answer time compliance' },
      text: {
        nb: `Per døgn: andel tilbudte anrop besvart innen ${fmtS(t.limitS)} (mål minst ${t.targetPercent} %), og lengste ventetid (ingen over ${fmtS(t.maxS)}). Anrop telles på døgnet de kom inn.`,
        en: `Per day: share of offered calls answered within ${fmtS(t.limitS)} (target at least ${t.targetPercent} %), and the longest wait (none over ${fmtS(t.maxS)}). Calls count on the day they arrived.`,
      },
    },
    {
      term: { nb: 'Tid på reserve', en: 'Time on backup' },
      text: {
        nb: 'Tid da Vaktpost sendte anropene til reservesentralen (registrerte ruteendringer).',
        en: 'Time during which Vaktpost routed calls to the backup centre (recorded route changes).',
      },
    },
    {
      term: { nb: 'Avvik', en: 'Deviation' },
      text: {
        nb: 'Åpnes automatisk ved alarmer (omruting til reserve, feilet kontroll, feilet øvelse, tidsfeil …) og ved tapte planlagte oppgaver; kvitteres og lukkes med kommentar av en tekniker. Eksporten viser hvem og når.',
        en: 'Opened automatically by alarms (route to backup, failed verification, failed drill, time failure …) and by missed scheduled duties; acknowledged and closed with a comment by a technician. The export shows who and when.',
      },
    },
  ];
}

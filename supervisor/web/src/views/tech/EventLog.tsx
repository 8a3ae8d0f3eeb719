/** The event log: filter by severity, kind, time and text; page back; export to CSV. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { Icon } from '../../components/Icon.js';
import { download, toCsv } from '../../csv.js';
import { fmtWhen, isoLocal } from '../../format.js';
import { getLang, pick, t } from '../../i18n.js';
import type { LiveState } from '../../live.js';
import type { EventRow } from '../../wire.js';

interface Filter {
  severity: '' | 'info' | 'warn' | 'alarm';
  kind: string;
  since: string;
  until: string;
  text: string;
}

const PAGE = 200;
const EXPORT_MAX = 20_000;
const SEV_ICON = { info: 'ok', warn: 'warn', alarm: 'fail' } as const;

function query(f: Filter, before?: number, limit = PAGE): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (f.severity) q.set('severity', f.severity);
  if (f.kind.trim()) q.set('kind', f.kind.trim());
  if (f.since) q.set('since', String(new Date(f.since).getTime()));
  if (f.until) q.set('until', String(new Date(f.until).getTime()));
  if (before) q.set('before', String(before));
  return `/api/events?${q}`;
}

const matchesText = (e: EventRow, text: string) => {
  const s = text.trim().toLowerCase();
  return !s || [e.en, e.nb, e.kind, e.actor ?? '', e.subsystem ?? ''].some((x) => x.toLowerCase().includes(s));
};

export function EventLog({ live }: { live: LiveState }) {
  const [draft, setDraft] = useState<Filter>({ severity: '', kind: '', since: '', until: '', text: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [rows, setRows] = useState<EventRow[]>([]);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  // The filter whose answer `rows` holds. Until the answer to a new filter arrives the table
  // shows nothing, never the rows of the previous filter (they would not match it).
  const [loaded, setLoaded] = useState<Filter | null>(null);

  useEffect(() => {
    let current = true; // an answer to a filter that has since changed is dropped
    setBusy(true);
    setRows([]);
    setLoaded(null);
    api<{ events: EventRow[] }>('GET', query(filter))
      .then((r) => {
        if (!current) return;
        setRows(r.events);
        setMore(r.events.length === PAGE);
        setErr(null);
        setLoaded(filter);
      })
      .catch((e: Error) => current && setErr(e.message))
      .finally(() => current && setBusy(false));
    return () => {
      current = false;
    };
  }, [filter]);

  // New events arrive live; show those that pass the filter (an open-ended one only).
  const newest = rows[0]?.id ?? 0;
  const fresh =
    filter.until || loaded !== filter
      ? []
      : live.recent.filter(
          (e) =>
            e.id > newest &&
            (!filter.severity || e.severity === filter.severity) &&
            (!filter.kind.trim() || e.kind === filter.kind.trim()) &&
            (!filter.since || e.at >= new Date(filter.since).getTime()),
        );
  const all = [...fresh, ...rows].filter((e) => matchesText(e, filter.text));

  const older = async () => {
    const last = rows[rows.length - 1];
    if (!last) return;
    setBusy(true);
    try {
      const r = await api<{ events: EventRow[] }>('GET', query(filter, last.id));
      setRows([...rows, ...r.events]);
      setMore(r.events.length === PAGE);
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const exportCsv = async () => {
    setBusy(true);
    try {
      const out: EventRow[] = [];
      let before: number | undefined;
      while (out.length < EXPORT_MAX) {
        const r = await api<{ events: EventRow[] }>('GET', query(filter, before, 1000));
        out.push(...r.events);
        const last = r.events[r.events.length - 1];
        if (r.events.length < 1000 || !last) break;
        before = last.id;
      }
      const lang = getLang();
      const sep = lang === 'nb' ? ';' : ',';
      const csv = toCsv(
        ['id', t('ev.time'), t('ev.severity'), t('ev.kind'), t('ev.subsystem'), t('ev.actor'), t('ev.message')],
        out.filter((e) => matchesText(e, filter.text)).map((e) => [e.id, isoLocal(e.at), e.severity, e.kind, e.subsystem, e.actor, pick(e)]),
        sep,
      );
      download(`vaktpost-events-${isoLocal(Date.now()).slice(0, 19).replace(/:/g, '')}.csv`, csv);
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const set = (k: keyof Filter) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="eventlog">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
        }}
      >
        <fieldset>
          <legend>{t('ev.filter')}</legend>
          <label>
            {t('ev.severity')}{' '}
            <select value={draft.severity} onChange={set('severity')} data-testid="ev-severity">
              <option value="">{t('ev.all')}</option>
              <option value="info">{t('ev.info')}</option>
              <option value="warn">{t('ev.warn')}</option>
              <option value="alarm">{t('ev.alarm')}</option>
            </select>
          </label>
          <label>
            {t('ev.kind')} <input value={draft.kind} onInput={set('kind')} placeholder="route.changed" size={16} />
          </label>
          <label>
            {t('ev.since')} <input type="datetime-local" value={draft.since} onInput={set('since')} />
          </label>
          <label>
            {t('ev.until')} <input type="datetime-local" value={draft.until} onInput={set('until')} />
          </label>
          <label>
            {t('ev.search')} <input type="search" value={draft.text} onInput={set('text')} size={18} data-testid="ev-text" />
          </label>
          <button type="submit" class="btn btn-primary">
            {t('ev.apply')}
          </button>
          <button type="button" class="btn" onClick={exportCsv} disabled={busy} data-testid="ev-csv">
            {t('ev.csv')}
          </button>
        </fieldset>
      </form>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      <p class="muted" aria-live="polite">
        {t('ev.count', { n: all.length })}
      </p>
      <div class="table-wrap">
        <table data-testid="events" data-state={loaded === filter ? 'ready' : 'loading'} data-severity={filter.severity}>
          <thead>
            <tr>
              <th scope="col">{t('ev.time')}</th>
              <th scope="col">{t('ev.severity')}</th>
              <th scope="col">{t('ev.kind')}</th>
              <th scope="col">{t('ev.message')}</th>
              <th scope="col">{t('ev.actor')}</th>
            </tr>
          </thead>
          <tbody>
            {loaded !== filter ? (
              <tr>
                <td colSpan={5}>{t('ev.loading')}</td>
              </tr>
            ) : all.length === 0 ? (
              <tr>
                <td colSpan={5}>{t('ev.none')}</td>
              </tr>
            ) : (
              all.map((e) => (
                <tr key={e.id} class={`sev-${e.severity}`} data-kind={e.kind}>
                  <td class="nowrap">{fmtWhen(e.at)}</td>
                  <td class="nowrap">
                    <Icon name={SEV_ICON[e.severity]} size={16} /> {t(`ev.${e.severity}`)}
                  </td>
                  <td class="mono">{e.kind}</td>
                  <td>{pick(e)}</td>
                  <td>{e.actor ?? ''}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      {more ? (
        <button type="button" class="btn" onClick={older} disabled={busy}>
          {t('ev.more')}
        </button>
      ) : null}
    </div>
  );
}

/** History charts of numeric signals (offset, battery, RTT/loss, disk, …) over a chosen range. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { Chart } from '../../components/Chart.js';
import { t } from '../../i18n.js';
import type { LiveState } from '../../live.js';
import type { SeriesPoint } from '../../wire.js';

const RANGES: Array<{ id: string; ms: number; label: string }> = [
  { id: '5m', ms: 5 * 60_000, label: '5 min' },
  { id: '15m', ms: 15 * 60_000, label: '15 min' },
  { id: '1h', ms: 3600_000, label: '1 h' },
  { id: '6h', ms: 6 * 3600_000, label: '6 h' },
  { id: '24h', ms: 24 * 3600_000, label: '24 h' },
  { id: '7d', ms: 7 * 24 * 3600_000, label: '7 d' },
  { id: '30d', ms: 30 * 24 * 3600_000, label: '30 d' },
];

/** What a technician looks at first: clock offset, battery, link quality, disk. */
const PRESETS = [/^time\.offset$/, /^power\.[^.]+\.(charge|runtime)$/, /^wan\.[^.]+\.(rtt|loss)$/, /^(recording|system)\.disk/, /^system\.(cpuTemp|memory)/];

function SeriesChart({ sigKey, unit, rangeMs, onRemove }: { sigKey: string; unit: string; rangeMs: number; onRemove: () => void }) {
  const [data, setData] = useState<{ points: SeriesPoint[]; since: number; until: number } | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const until = Date.now();
        const r = await api<{ points: SeriesPoint[]; since: number; until: number }>(
          'GET',
          `/api/samples?key=${encodeURIComponent(sigKey)}&since=${until - rangeMs}&until=${until}&buckets=240`,
        );
        if (!stop) {
          setData(r);
          setErr(null);
        }
      } catch (e) {
        if (!stop) setErr((e as Error).message);
      }
    };
    void load();
    const id = window.setInterval(load, Math.max(5000, rangeMs / 120));
    return () => {
      stop = true;
      clearInterval(id);
    };
  }, [sigKey, rangeMs]);
  return (
    <section class="card chart-card" data-testid={`chart-${sigKey}`}>
      <h3>
        <span class="mono">{sigKey}</span>{' '}
        <button type="button" class="btn btn-small" onClick={onRemove}>
          {t('hist.remove')}
        </button>
      </h3>
      {err ? <p class="form-error">{err}</p> : null}
      {data ? <Chart id={sigKey} title={sigKey} points={data.points} since={data.since} until={data.until} unit={unit} /> : <p>{t('hist.loading')}</p>}
    </section>
  );
}

export function History({ live }: { live: LiveState }) {
  const [range, setRange] = useState('1h');
  // A signal that is numeric now, or one of the presets even while it has no value (a
  // link that is down has no RTT now — and that is exactly when its history matters).
  const numeric = useMemo(
    () =>
      (live.snap?.signals ?? [])
        .filter((s) => typeof s.value === 'number' || PRESETS.some((re) => re.test(s.key)))
        .map((s) => ({ key: s.key, unit: s.unit ?? '' })),
    [live.snap?.signals],
  );
  const [chosen, setChosen] = useState<string[] | null>(null);
  const keys = chosen ?? numeric.filter((s) => PRESETS.some((re) => re.test(s.key))).map((s) => s.key);
  const [add, setAdd] = useState('');
  const rangeMs = RANGES.find((r) => r.id === range)?.ms ?? 3600_000;
  return (
    <div class="history">
      <fieldset class="range">
        <legend>{t('hist.range')}</legend>
        {RANGES.map((r) => (
          <label key={r.id} class={`chip${range === r.id ? ' chip-on' : ''}`}>
            <input type="radio" name="range" value={r.id} checked={range === r.id} onChange={() => setRange(r.id)} />
            {r.label}
          </label>
        ))}
      </fieldset>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (add && !keys.includes(add)) setChosen([...keys, add]);
        }}
      >
        <label>
          {t('hist.signal')}{' '}
          <select value={add} onChange={(e) => setAdd((e.target as HTMLSelectElement).value)}>
            <option value="">—</option>
            {numeric
              .filter((s) => !keys.includes(s.key))
              .map((s) => (
                <option key={s.key} value={s.key}>
                  {s.key}
                </option>
              ))}
          </select>
        </label>{' '}
        <button type="submit" class="btn">
          {t('hist.add')}
        </button>
      </form>
      <div class="charts">
        {keys.map((k) => (
          <SeriesChart
            key={k}
            sigKey={k}
            unit={numeric.find((s) => s.key === k)?.unit ?? ''}
            rangeMs={rangeMs}
            onRemove={() => setChosen(keys.filter((x) => x !== k))}
          />
        ))}
      </div>
    </div>
  );
}

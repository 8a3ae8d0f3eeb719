/**
 * A small SVG time-series chart: the average as a line, min–max as a band, gaps
 * where there was no data (silence is not drawn as a value), and intervals with a
 * not-OK status hatched along the bottom (pattern, not colour alone).
 */
import { fmtNumber, fmtTime, fmtWhen } from '../format.js';
import { t } from '../i18n.js';
import type { SeriesPoint } from '../wire.js';

const W = 720;
const H = 220;
const M = { l: 64, r: 12, t: 12, b: 30 };
/** 2.5 × the store's resampling period of unchanged signals. */
const GAP_MS = 25_000;

export function Chart({
  id,
  title,
  points,
  since,
  until,
  unit,
}: {
  id: string;
  title: string;
  points: SeriesPoint[];
  since: number;
  until: number;
  unit: string;
}) {
  const pid = `hatch-${id.replace(/[^a-zA-Z0-9]/g, '-')}`;
  if (points.length === 0) return <p class="chart-empty">{t('hist.noData')}</p>;
  let lo = Math.min(...points.map((p) => p.min));
  let hi = Math.max(...points.map((p) => p.max));
  if (hi - lo < 1e-9) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (at: number) => M.l + ((at - since) / (until - since)) * (W - M.l - M.r);
  const y = (v: number) => M.t + (1 - (v - lo) / (hi - lo)) * (H - M.t - M.b);
  const bucket = points.length > 1 ? Math.min(...points.slice(1).map((p, i) => p.at - (points[i] as SeriesPoint).at)) : (until - since) / 300;
  // Split into runs where samples are contiguous. An unchanged signal is stored only every
  // 10 s (supervisor sampleEveryMs), so only a silence longer than that breaks the line.
  const maxGap = Math.max(bucket * 3, GAP_MS);
  const runs: SeriesPoint[][] = [];
  for (const p of points) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    if (run && prev && p.at - prev.at <= maxGap) run.push(p);
    else runs.push([p]);
  }
  const line = (run: SeriesPoint[]) => run.map((p, i) => `${i ? 'L' : 'M'}${x(p.at + bucket / 2).toFixed(1)},${y(p.avg).toFixed(1)}`).join('');
  const band = (run: SeriesPoint[]) =>
    `${run.map((p, i) => `${i ? 'L' : 'M'}${x(p.at + bucket / 2).toFixed(1)},${y(p.max).toFixed(1)}`).join('')}${[...run]
      .reverse()
      .map((p) => `L${x(p.at + bucket / 2).toFixed(1)},${y(p.min).toFixed(1)}`)
      .join('')}Z`;
  const yTicks = [0, 1, 2, 3, 4].map((i) => lo + ((hi - lo) * i) / 4);
  const long = until - since > 24 * 3600_000;
  const xTicks = [0, 1, 2, 3, 4].map((i) => since + ((until - since) * i) / 4);
  const last = points[points.length - 1] as SeriesPoint;
  const summary = t('hist.summary', {
    key: title,
    n: points.length,
    min: fmtNumber(Math.min(...points.map((p) => p.min))),
    max: fmtNumber(Math.max(...points.map((p) => p.max))),
    last: fmtNumber(last.avg),
    unit,
  });
  const bad = points.filter((p) => p.bad > 0);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} class="chart-svg">
        <title>{summary}</title>
        <defs>
          <pattern id={pid} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="3" height="6" fill="#b3261e" />
          </pattern>
        </defs>
        {yTicks.map((v) => (
          <g key={v}>
            <line x1={M.l} x2={W - M.r} y1={y(v)} y2={y(v)} class="grid" />
            <text x={M.l - 6} y={y(v) + 4} text-anchor="end" class="tick">
              {fmtNumber(v)}
            </text>
          </g>
        ))}
        {xTicks.map((at, i) => (
          <text key={at} x={x(at)} y={H - 8} text-anchor={i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle'} class="tick">
            {long ? fmtWhen(at).replace(/:\d\d$/, '') : fmtTime(at).replace(/:\d\d$/, '')}
          </text>
        ))}
        {runs.map((r) => (
          <path key={`b${r[0]?.at}`} d={band(r)} class="band" />
        ))}
        {runs.map((r) =>
          r.length > 1 ? (
            <path key={`l${r[0]?.at}`} d={line(r)} class="line" />
          ) : (
            // a lone sample has no line: draw it as a dot so it is not lost
            <circle key={`l${r[0]?.at}`} cx={x((r[0] as SeriesPoint).at + bucket / 2)} cy={y((r[0] as SeriesPoint).avg)} r={3} class="dot" />
          ),
        )}
        {bad.map((p) => (
          <rect key={`x${p.at}`} x={x(p.at)} y={H - M.b - 10} width={Math.max(2, x(p.at + bucket) - x(p.at))} height={10} fill={`url(#${pid})`} />
        ))}
        <text x={M.l} y={M.t + 2} class="unit" dominant-baseline="hanging">
          {unit}
        </text>
      </svg>
      <figcaption>
        {summary}
        {bad.length > 0 ? <span class="chart-bad"> · {t('hist.bad')}</span> : null}
      </figcaption>
    </figure>
  );
}

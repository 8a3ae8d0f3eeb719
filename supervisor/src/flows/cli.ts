/**
 * `vaktpost flows …` — the CLI side of the flows, talking to the running supervisor's
 * API (so every change is recorded with who did it, like from the UI):
 *   flows status
 *   flows versions [--limit N]
 *   flows templates
 *   flows dry-run  (--template NAME | --file FLOWS.json | --version N)
 *   flows deploy   (--template NAME | --file FLOWS.json) [--reason TEXT]
 *   flows rollback VERSION [--reason TEXT]
 * The caller passes its authenticated `call` (cli/main.ts's api()).
 */
import { readFileSync } from 'node:fs';
import type { DryRunReport } from './dryRun.js';
import type { FlowsStatus } from './service.js';

export type ApiCall = (method: string, path: string, body?: unknown, timeoutMs?: number) => Promise<unknown>;

export interface FlowsCliOptions {
  template?: string;
  file?: string;
  version?: string;
  reason?: string;
  limit?: string;
  json?: boolean;
}

export const FLOWS_CLI_USAGE =
  'flows status | versions [--limit N] | templates | dry-run (--template NAME | --file FLOWS.json | --version N) | ' +
  'deploy (--template NAME | --file FLOWS.json) [--reason TEXT] | rollback VERSION [--reason TEXT]';

const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function source(o: FlowsCliOptions, allowVersion: boolean): Record<string, unknown> {
  const given = [o.template, o.file, allowVersion ? o.version : undefined].filter((x) => x !== undefined);
  if (given.length !== 1) throw new Error(`give exactly one of --template, --file${allowVersion ? ', --version' : ''}`);
  if (o.template) return { template: o.template };
  if (o.file) {
    let flows: unknown;
    try {
      flows = JSON.parse(readFileSync(o.file, 'utf8')) as unknown;
    } catch (err) {
      throw new Error(`cannot read flows from ${o.file}: ${(err as Error).message}`);
    }
    return { flows: Array.isArray(flows) ? flows : (flows as { flows?: unknown }).flows };
  }
  const v = Number(o.version);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--version must be a version number, got "${o.version}"`);
  return { version: v };
}

export function formatDryRun(id: number, r: DryRunReport): string {
  const lines = [
    `dry-run #${id}: ${fmt(r.window.from)} – ${fmt(r.window.to)} UTC, ${r.evaluations} evaluations, ${r.samples} samples (${r.durationMs} ms)`,
    `current: ${r.current.kind === 'builtin' ? 'built-in policy' : `v${r.current.version}`} (${r.current.routeChanges} route changes); candidate: ${r.candidate.routeChanges} route changes`,
  ];
  if (r.differences.length === 0) lines.push('no difference in routing (ingen forskjell i ruting)');
  for (const d of r.differences) {
    lines.push(
      `  ${fmt(d.from)} – ${fmt(d.to)}  candidate ${d.candidate.route.padEnd(6)} current ${d.current.route.padEnd(6)} ${d.candidate.reason ? `— ${d.candidate.reason.en}` : ''}`,
    );
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export async function flowsCommand(sub: string | undefined, positionals: string[], o: FlowsCliOptions, call: ApiCall): Promise<string> {
  const out = (x: unknown, text: string) => (o.json ? JSON.stringify(x, null, 2) : text);
  switch (sub) {
    case 'status': {
      const s = (await call('GET', '/api/flows/status')) as FlowsStatus;
      const v = s.version;
      return out(
        s,
        [
          `flows runtime: ${s.runtime.state} (${s.runtime.detail})${s.runtime.pid ? `, pid ${s.runtime.pid}` : ''}${s.runtime.rssBytes ? `, ${Math.round(s.runtime.rssBytes / 1048576)} MB` : ''}`,
          `trusted: ${s.trusted ? 'yes' : 'no (built-in policy decides)'}; answers median ${s.answerMs.median?.toFixed(1) ?? '–'} ms, p95 ${s.answerMs.p95?.toFixed(1) ?? '–'} ms`,
          v ? `version: v${v.id} (${v.kind}) by ${v.actor} at ${fmt(v.at)}` : 'version: none',
          ...s.proposals.map((p) => `proposal [${p.tabLabel ?? p.tab}]: ${p.route} — ${p.en}`),
        ].join('\n'),
      );
    }
    case 'versions': {
      const r = (await call('GET', `/api/flows/versions?limit=${Number(o.limit ?? 20)}`)) as {
        versions: Array<{
          id: number;
          at: number;
          actor: string;
          kind: string;
          restoredFrom: number | null;
          diff: { summary: string };
          dryRunId: number | null;
        }>;
      };
      return out(
        r,
        r.versions
          .map(
            (v) =>
              `v${v.id}  ${fmt(v.at)}  ${v.actor.padEnd(12)} ${v.kind}${v.restoredFrom ? ` of v${v.restoredFrom}` : ''}  ${v.diff.summary}${v.dryRunId ? `  dry-run #${v.dryRunId}` : '  (no dry-run)'}`,
          )
          .join('\n'),
      );
    }
    case 'templates': {
      const r = (await call('GET', '/api/flows/templates')) as { templates: Array<{ name: string; title: string }> };
      return out(r, r.templates.map((x) => `${x.name.padEnd(28)} ${x.title}`).join('\n'));
    }
    case 'dry-run': {
      const r = (await call('POST', '/api/flows/dry-run', source(o, true), 300_000)) as { id: number; report: DryRunReport };
      return out(r, formatDryRun(r.id, r.report));
    }
    case 'deploy': {
      const v = (await call('POST', '/api/flows/deploy', { ...source(o, false), ...(o.reason ? { comment: o.reason } : {}) }, 30_000)) as {
        id: number;
        diff: { summary: string };
        dryRunId: number | null;
      };
      return out(v, `deployed as v${v.id} (${v.diff.summary})${v.dryRunId ? `, dry-run #${v.dryRunId}` : ', without a dry-run'}`);
    }
    case 'rollback': {
      const version = Number(positionals[0]);
      if (!Number.isInteger(version) || version < 1) throw new Error('usage: vaktpost flows rollback VERSION [--reason TEXT]');
      const v = (await call('POST', '/api/flows/rollback', { version, ...(o.reason ? { comment: o.reason } : {}) }, 30_000)) as { id: number };
      return out(v, `rolled back to v${version} (now v${v.id})`);
    }
    default:
      throw new Error(`usage: vaktpost ${FLOWS_CLI_USAGE}`);
  }
}

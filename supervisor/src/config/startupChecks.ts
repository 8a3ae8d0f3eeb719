/**
 * What `run` checks at start-up beyond the schema, run by `check-config` too, so a
 * config that check-config calls OK is one `run` starts with: the upstream request
 * templates compile (every `${env:NAME}` is set, every `{{placeholder}}` known, the JSON
 * body renders, the CA file reads) and flows.credentialSecret's env reference is set.
 *
 * The environment is the one this process has: run check-config with the service's
 * environment (e.g. `set -a; . /etc/vaktpost/env; vaktpost check-config …`).
 */
import { Heartbeat } from '../reconcilers/upstream/heartbeat.js';
import { resolveEnvRefs, TemplateError } from '../reconcilers/upstream/template.js';
import { WebhookActuator } from '../reconcilers/upstream/webhookActuator.js';
import type { VaktpostConfig } from './schema.js';

export interface StartupProblem {
  /** Config path of the value at fault, for the line number. */
  path: string[];
  message: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function startupProblems(cfg: VaktpostConfig, env: Env): StartupProblem[] {
  const out: StartupProblem[] = [];
  const attempt = (fallback: string[], build: () => unknown) => {
    try {
      build();
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      out.push({ path: pathOf(err.message, fallback), message: err.message });
    }
  };
  const { webhook, heartbeat } = cfg.upstream;
  // The constructors only compile (no timers, no requests): the same code `run` runs.
  if (webhook) attempt(['upstream', 'webhook'], () => new WebhookActuator(webhook, { box: cfg.box.name, env }));
  if (heartbeat) attempt(['upstream', 'heartbeat'], () => new Heartbeat(heartbeat, { box: cfg.box.name, route: () => 'unknown', env }));
  const secret = cfg.flows.credentialSecret;
  if (cfg.flows.enabled && secret) attempt(['flows', 'credentialSecret'], () => resolveEnvRefs(secret, 'flows.credentialSecret', env));
  return out;
}

/**
 * The template errors start with where they are (`upstream.webhook.headers.Authorization
 * references …`); that path finds the line. Header names are tokens, so no spaces.
 */
function pathOf(message: string, fallback: string[]): string[] {
  const m = /^((?:upstream|flows)\.[^\s:]+)/.exec(message);
  return m?.[1] ? m[1].split('.') : fallback;
}

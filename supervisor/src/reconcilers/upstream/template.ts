/**
 * Tiny request templating for the upstream webhook and heartbeat.
 *
 *   `${env:NAME}`  resolved once, when the template is compiled (start-up), so a
 *                  missing secret fails the start, not the first failover.
 *   `{{name}}`     a placeholder filled on every render (route, reason, …).
 *
 * Both are escaped for the context they land in, so a reason like
 * `"strømbrudd"\n` can never break the JSON body, the URL or a header. Unknown
 * placeholders are a compile error: a typo must not silently send `{{rout}}`.
 */

export type TemplateContext = 'json' | 'form' | 'url' | 'header' | 'text';

export type TemplateValue = string | number;

export interface CompiledTemplate<K extends string> {
  readonly source: string;
  /** The text to send: env references and placeholders substituted and escaped. */
  render(values: Readonly<Record<K, TemplateValue>>): string;
  /**
   * The same, but env references left as `${env:NAME}`: safe for logs and
   * error messages (a token in a URL query must not end up in the journal).
   */
  display(values: Readonly<Record<K, TemplateValue>>): string;
}

type Part<K extends string> = { kind: 'literal'; text: string } | { kind: 'env'; name: string; value: string; raw: string } | { kind: 'placeholder'; name: K };

const TOKEN = /\$\{env:([^}]*)\}|\{\{([^{}]*)\}\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Escape `value` so it is inert where it lands. */
export function escapeFor(context: TemplateContext, value: string): string {
  switch (context) {
    case 'json':
      // Contents of a JSON string (the template supplies the quotes).
      return JSON.stringify(value).slice(1, -1);
    case 'form':
      return encodeURIComponent(value).replace(/%20/g, '+');
    case 'url':
      return encodeURIComponent(value);
    case 'header':
      // Node rejects control characters in header values and sends non-ASCII
      // as latin1; percent-encode non-ASCII (RFC 8187 style) and blank out controls.
      return value.replace(/[\x00-\x1f\x7f]/g, ' ').replace(/[^\x20-\x7e]+/g, (s) => encodeURIComponent(s));
    case 'text':
      return value;
  }
}

/**
 * Resolve `${env:NAME}` references in a plain string (no placeholders), e.g. a
 * file path. Same rules as in templates: missing or empty is an error.
 */
export function resolveEnvRefs(source: string, what: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return source.replace(/\$\{env:([^}]*)\}/g, (_m, name: string) => lookupEnv(name, what, env));
}

function lookupEnv(name: string, what: string, env: Readonly<Record<string, string | undefined>>): string {
  if (!ENV_NAME.test(name)) {
    throw new TemplateError(
      `${what}: \${env:${name}} is not a valid environment variable name — use letters, digits and _ (e.g. \${env:VAKTPOST_UPSTREAM_TOKEN})`,
    );
  }
  const value = env[name];
  if (value === undefined || value === '') {
    throw new TemplateError(
      `${what} references \${env:${name}}, but ${name} is ${value === undefined ? 'not set' : 'empty'} in the supervisor's environment — ` +
        `set it (e.g. in the systemd unit's EnvironmentFile) or remove the reference`,
    );
  }
  return value;
}

export function compileTemplate<K extends string>(
  source: string,
  opts: {
    /** Where the template sits in the config, for error messages, e.g. `upstream.webhook.headers.Authorization`. */
    what: string;
    placeholders: readonly K[];
    context: TemplateContext;
    env?: Readonly<Record<string, string | undefined>>;
  },
): CompiledTemplate<K> {
  const env = opts.env ?? process.env;
  const allowed = new Set<string>(opts.placeholders);
  const parts: Part<K>[] = [];
  let last = 0;
  for (const m of source.matchAll(TOKEN)) {
    const at = m.index;
    if (at > last) parts.push({ kind: 'literal', text: source.slice(last, at) });
    last = at + m[0].length;
    const envName = m[1];
    if (envName !== undefined) {
      const value = lookupEnv(envName, opts.what, env);
      if (opts.context === 'header' && /[\r\n]/.test(value)) {
        throw new TemplateError(`${opts.what}: environment variable ${envName} contains a line break — strip the trailing newline from the secret`);
      }
      parts.push({ kind: 'env', name: envName, value: escapeFor(opts.context, value), raw: m[0] });
      continue;
    }
    const name = (m[2] ?? '').trim();
    if (!allowed.has(name)) {
      const list = opts.placeholders.map((p) => `{{${p}}}`).join(', ');
      throw new TemplateError(`${opts.what}: unknown placeholder {{${name}}} — allowed here: ${list}`);
    }
    parts.push({ kind: 'placeholder', name: name as K });
  }
  if (last < source.length) parts.push({ kind: 'literal', text: source.slice(last) });

  const build = (values: Readonly<Record<K, TemplateValue>>, showEnv: boolean): string => {
    let out = '';
    for (const p of parts) {
      if (p.kind === 'literal') out += p.text;
      else if (p.kind === 'env') out += showEnv ? p.raw : p.value;
      else {
        const v = values[p.name];
        // Numbers (e.g. {{seq}}) go in verbatim so `"seq": {{seq}}` stays a JSON number.
        out += typeof v === 'number' ? String(v) : escapeFor(opts.context, v);
      }
    }
    return out;
  };
  return {
    source,
    render: (values) => build(values, false),
    display: (values) => build(values, true),
  };
}

/** Content types whose body gets JSON escaping (application/json, application/*+json). */
export function contextForContentType(contentType: string | undefined): TemplateContext {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (ct === 'application/json' || /^application\/[^/]+\+json$/.test(ct)) return 'json';
  if (ct === 'application/x-www-form-urlencoded') return 'form';
  return 'text';
}

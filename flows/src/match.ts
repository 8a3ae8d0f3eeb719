/**
 * Key filters for `vaktpost signal`: a comma- or space-separated list of patterns
 * where `*` stands for any run of characters, e.g. `wan.*.state, health.wan`.
 * An empty filter matches every key.
 */
export type KeyFilter = (key: string) => boolean;

export function compileFilter(spec: string | undefined): KeyFilter {
  const parts = (spec ?? '')
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return () => true;
  const res = parts.map((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`));
  return (key) => res.some((re) => re.test(key));
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

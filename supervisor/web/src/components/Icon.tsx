/**
 * Shapes, not only colours: each status and route has its own icon, so the screen
 * reads the same for colour-blind users and on a monochrome display. Icons are
 * decorative (aria-hidden); the text next to them carries the meaning.
 */
export type IconName = 'ok' | 'warn' | 'fail' | 'unknown' | 'local' | 'backup' | 'plug' | 'bell';

const PATHS: Record<IconName, string> = {
  ok: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-1.5 14.2-4.2-4.2 1.4-1.4 2.8 2.8 5.8-5.8 1.4 1.4z',
  warn: 'M12 2 1 21h22zm-1 6h2v7h-2zm0 9h2v2h-2z',
  fail: 'M7.9 2h8.2L22 7.9v8.2L16.1 22H7.9L2 16.1V7.9zm.7 5.2-1.4 1.4 3.4 3.4-3.4 3.4 1.4 1.4 3.4-3.4 3.4 3.4 1.4-1.4-3.4-3.4 3.4-3.4-1.4-1.4-3.4 3.4z',
  unknown:
    'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-.1 2.5c-2 0-3.5 1.3-3.6 3.2h2c.1-.8.7-1.3 1.6-1.3.9 0 1.5.5 1.5 1.3 0 .7-.3 1-1.3 1.7-1.1.7-1.6 1.5-1.5 2.8v.6h2v-.5c0-.8.3-1.1 1.3-1.8 1.1-.7 1.7-1.6 1.7-2.9 0-1.9-1.5-3.1-3.7-3.1zM11 16v2h2v-2z',
  local: 'M12 3 2 12h3v8h5v-6h4v6h5v-8h3z',
  backup: 'M4 4h2v9a3 3 0 0 0 3 3h8.2l-3.6-3.6L15 11l6 6-6 6-1.4-1.4 3.6-3.6H9a5 5 0 0 1-5-5z',
  plug: 'M16 7V3h-2v4h-4V3H8v4H6v6l4 4v4h4v-4l4-4V7zM3.3 2 2 3.3l18.7 18.7 1.3-1.3z',
  bell: 'M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 0 0-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1z',
};

export function Icon({ name, size = 24, class: cls }: { name: IconName; size?: number; class?: string }) {
  return (
    <svg class={`icon icon-${name}${cls ? ` ${cls}` : ''}`} width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fill="currentColor" />
    </svg>
  );
}

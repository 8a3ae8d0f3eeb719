/**
 * Watches the route panel in the page and timestamps each change at the next
 * animation frame (when it is painted), with the wall clock shared with the test
 * process. Installed as a string: this file is compiled without the DOM library.
 */
import type { Page } from 'playwright-core';

export const WATCH_SCRIPT = `(() => {
  if (window.__vaktpostWatch) return;
  const changes = [];
  window.__vaktpostWatch = changes;
  let last = null;
  const check = () => {
    const el = document.querySelector('[data-testid=route]');
    const r = el ? el.getAttribute('data-route') : null;
    if (r !== last) {
      last = r;
      requestAnimationFrame(() => changes.push({ route: r, at: Date.now(), perf: performance.now() }));
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-route'] });
  check();
})()`;

export interface RouteChange {
  route: string | null;
  at: number;
  perf: number;
}

export async function installRouteWatch(page: Page): Promise<void> {
  await page.evaluate(WATCH_SCRIPT);
}

export async function routeChanges(page: Page): Promise<RouteChange[]> {
  return (await page.evaluate('window.__vaktpostWatch || []')) as RouteChange[];
}

type WatchGlobal = { __vaktpostWatch?: RouteChange[] };

/** Waits until the page has painted the route `route` after `afterMs` (epoch ms); returns when. */
export async function paintedRoute(page: Page, route: string, afterMs: number, timeoutMs: number): Promise<RouteChange> {
  // A function, not a string: the page's CSP (no 'unsafe-eval') refuses string predicates.
  const find = (a: { route: string; afterMs: number }) =>
    ((globalThis as unknown as WatchGlobal).__vaktpostWatch ?? []).find((c) => c.route === a.route && c.at >= a.afterMs) ?? null;
  try {
    const h = await page.waitForFunction(find, { route, afterMs }, { timeout: timeoutMs, polling: 'raf' });
    return (await h.jsonValue()) as RouteChange;
  } catch (err) {
    throw new Error(
      `the page did not show route ${route} within ${timeoutMs} ms (${(err as Error).message.split('\n')[0]}; changes seen: ${JSON.stringify(await routeChanges(page))})`,
    );
  }
}

import type { Route } from './route';

/** The variables of the region page's request besides its route: rows of each appendix table, names below the threshold. */
export const REGION_PAGE_ROWS = { rows: 100, belowNames: 30 } as const;

/** The region page's first answer as the inline script of index.html left it: its route (href) and the answer's JSON body. */
export interface EarlyAnswer {
  key: string;
  body: Promise<unknown>;
}

/**
 * Sends the region page's request from a script inline in index.html
 * (vite.config.ts writes this function's text there), while the page's
 * JavaScript is still on its way: on a first load the answer is the longest
 * part, and it now starts as soon as the document is read instead of after
 * a script has been fetched and run. It runs outside the bundle, so it uses
 * only its arguments and the browser's globals; the page takes the answer
 * over (early.ts) and asks again itself if there is none.
 */
export function sendEarlyRequest(
  query: string,
  rows: typeof REGION_PAGE_ROWS,
  tokenKey: string,
  routeOfHash: (hash: string) => Route,
  href: (route: Route) => string,
): void {
  const token = sessionStorage.getItem(tokenKey);
  const route = routeOfHash(location.hash);
  if (!token || route.kind !== 'region') return;
  const body = fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: { code: route.key, period: route.month, rows: rows.rows, belowNames: rows.belowNames } }),
  }).then((response) => response.json() as Promise<unknown>);
  body.catch(() => undefined); // reported by the view that takes it
  (window as unknown as { muluEarly?: EarlyAnswer }).muluEarly = { key: href(route), body };
}

/** Where the page is: #/region/410505?month=2023-06 or #/department/<credit code>?month=... */
export interface Route {
  kind: 'region' | 'department';
  key: string;
  month: string | null;
}

/** The route of a location hash. Uses no other name of the bundle: index.html's inline script carries its text (early-request.ts). */
export function routeOfHash(hash: string): Route {
  const [path, query] = hash.replace(/^#/, '').split('?');
  const [, kind, key] = path.split('/');
  const month = new URLSearchParams(query ?? '').get('month');
  if (kind === 'department' && key) return { kind, key, month };
  return { kind: 'region', key: kind === 'region' && key ? key : '410000', month };
}

export const parseRoute = (): Route => routeOfHash(location.hash);

/** The hash of a route. Uses no other name of the bundle (index.html's inline script carries its text). */
export const href = (r: Route) => `#/${r.kind}/${r.key}${r.month ? `?month=${r.month}` : ''}`;

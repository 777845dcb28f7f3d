import { answerOf, request } from './api';
import type { EarlyAnswer } from './early-request';
import { REGION_PAGE_ROWS } from './early-request';
import type { ResultOf } from './graphql';
import { RegionPageQuery } from './queries';
import { href, type Route } from './route';

type RegionPage = ResultOf<typeof RegionPageQuery>;

/**
 * A region page's answer: the one index.html's inline script asked for
 * (early-request.ts) if it is this page's (taken once), else asked now.
 */
export function regionPage(route: Route): Promise<RegionPage> {
  const holder = window as unknown as { muluEarly?: EarlyAnswer };
  const early = holder.muluEarly;
  holder.muluEarly = undefined;
  if (early?.key === href(route)) return early.body.then((body) => answerOf<RegionPage>(body));
  return request(RegionPageQuery, { code: route.key, period: route.month, ...REGION_PAGE_ROWS });
}

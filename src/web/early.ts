import { request, token } from './api';
import type { ResultOf } from './graphql';
import { RegionPageQuery } from './queries';
import { href, parseRoute, type Route } from './route';

/** Rows of the appendix tables on the page; the full tables are the exports. */
const TABLE_ROWS = 100;
/** Names in the list of departments below the threshold; a province has thousands, counted beside it. */
const BELOW_NAMES = 30;

type RegionPage = ResultOf<typeof RegionPageQuery>;

/**
 * The first region page's answer, asked for by the page's first, small
 * script (boot.ts) before the rest of the page (Preact, the charts, the
 * views) is loaded and run: the answer is the longest part of a first
 * load, and the rest now loads while it is computed.
 */
let early: { key: string; answer: Promise<RegionPage> } | null = null;

export function askEarly(): void {
  const route = parseRoute();
  if (route.kind !== 'region' || !token.get()) return;
  early = { key: href(route), answer: fetchRegionPage(route) };
  early.answer.catch(() => undefined); // reported by the view that takes it
}

const fetchRegionPage = (route: Route) => request(RegionPageQuery, { code: route.key, period: route.month, rows: TABLE_ROWS, belowNames: BELOW_NAMES });

/** A region page's answer: the one asked for early if it is this page's (once), else asked now. */
export function regionPage(route: Route): Promise<RegionPage> {
  const taken = early?.key === href(route) ? early.answer : null;
  early = null;
  return taken ?? fetchRegionPage(route);
}

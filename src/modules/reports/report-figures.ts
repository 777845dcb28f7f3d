import { compareCounts, percent, subtractCounts, type Count } from '../../core/numbers';
import { RankingMetric } from '../stats/ranking.service';
import type { UnitFigures } from './report-snapshot.entity';

/** Numerator and denominator of a rate of one unit. */
export interface Ratio {
  numerator: number;
  denominator: number;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

export const subItemsOf = (f: UnitFigures) => sum(f.supervision.byCategory.map((c) => c.subItems));
export const coveredSubItemsOf = (f: UnitFigures) => sum(f.supervision.byCategory.map((c) => c.coveredSubItems));
export const recordsOf = (f: UnitFigures) => sum(f.supervision.byCategory.map((c) => c.records));

/** The counts each ranked rate is made of; definitions as in docs/domain.md. */
export function ratioOf(figures: UnitFigures, metric: RankingMetric): Ratio {
  switch (metric) {
    case RankingMetric.MOUNT_RATE:
      return { numerator: figures.mount.mountedDirectories, denominator: figures.mount.publishedDirectories };
    case RankingMetric.MAIN_COVERAGE_RATE:
      return { numerator: figures.supervision.coveredMainItems, denominator: figures.supervision.mainItems };
    case RankingMetric.SUB_COVERAGE_RATE:
      return { numerator: coveredSubItemsOf(figures), denominator: subItemsOf(figures) };
  }
}

export const METRICS: readonly RankingMetric[] = [RankingMetric.MOUNT_RATE, RankingMetric.MAIN_COVERAGE_RATE, RankingMetric.SUB_COVERAGE_RATE];

/**
 * Compares two rates exactly (cross-multiplied counts, no floating point):
 * negative when a is the higher one, so sorting puts the highest first; units
 * without a rate sort last.
 */
export function compareRatesHighestFirst(a: Ratio, b: Ratio): number {
  if (a.denominator === 0 || b.denominator === 0) return (a.denominator === 0 ? 1 : 0) - (b.denominator === 0 ? 1 : 0);
  return b.numerator * a.denominator - a.numerator * b.denominator;
}

/**
 * Code-point order of names: the same on every machine, whatever its locale,
 * and the order of PostgreSQL's collation "C" on UTF-8 (NAME_ORDER_SQL, the
 * rankings). JavaScript's `<` compares UTF-16 code units, which puts U+E000 to
 * U+FFFF (full-width brackets, say) after the surrogates of characters beyond
 * U+FFFF (rare CJK characters); code-point order puts them before.
 */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** A UTF-16 code unit's place in code-point order: U+E000-U+FFFF below the surrogates (which encode U+10000 and beyond). */
const codePointRank = (unit: number) => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);

/** Orders SQL text columns as compareNames does (declared with the rankings, which use it too). */
export { nameOrderSql } from '../stats/ranking.service';

/**
 * A non-negative number as the decimal fraction it is written as
 * (0.55 -> 55/100, 1e-7 -> 1/10000000): JavaScript writes a number as the
 * shortest decimal that reads back as it, which is the decimal the caller
 * sent. Exact, unlike the binary double (0.55 * 100 is 55.00000000000001).
 */
export function decimalFraction(value: number): { numerator: bigint; denominator: bigint } {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!match) throw new RangeError(`${value} is not a non-negative finite number`);
  const [, whole, fraction = '', exponent = '0'] = match;
  const digits = BigInt(whole + fraction);
  const scale = fraction.length - Number(exponent);
  return scale >= 0 ? { numerator: digits, denominator: 10n ** BigInt(scale) } : { numerator: digits * 10n ** BigInt(-scale), denominator: 1n };
}

/**
 * Whether the rate is below the threshold (in [0, 1]), compared exactly in
 * integers: 55/100 is not below 0.55. A unit without a rate is never below.
 */
export function isBelow(ratio: Ratio, threshold: number): boolean {
  if (ratio.denominator <= 0) return false;
  const t = thresholdFraction(threshold);
  return BigInt(ratio.numerator) * t.denominator < t.numerator * BigInt(ratio.denominator);
}

/** The last threshold's fraction: a report asks for one threshold 30,000 times (10,000 departments, 3 rates). */
let lastThreshold: { value: number; fraction: ReturnType<typeof decimalFraction> } | undefined;
function thresholdFraction(threshold: number): ReturnType<typeof decimalFraction> {
  if (lastThreshold?.value !== threshold) lastThreshold = { value: threshold, fraction: decimalFraction(threshold) };
  return lastThreshold.fraction;
}

/**
 * Change of a rate in percentage points, as the report writes it ("-1.92"):
 * the difference of the two printed percentages (half-up to 2 decimals), so
 * it agrees with the figures printed beside it. Null when either rate is.
 */
export function percentagePointChange(now: Ratio, before: Ratio): number | null {
  const a = percent(now.numerator, now.denominator);
  const b = percent(before.numerator, before.denominator);
  if (a === null || b === null) return null;
  const hundredths = (text: string) => Math.round(Number(text) * 100);
  return (hundredths(a) - hundredths(b)) / 100;
}

/** Differences of the counts and rates of a unit between two periods. */
export interface FiguresChange {
  publishedDirectories: number;
  mountedDirectories: number;
  dataVolume: Count;
  staleDirectories: number;
  mountRatePoints: number | null;
  mainItems: number;
  coveredMainItems: number;
  mainCoverageRatePoints: number | null;
  subItems: number;
  coveredSubItems: number;
  records: number;
  subCoverageRatePoints: number | null;
  subscriptionsMade: number;
  subscriptionsReceived: number;
  subscriptionsPending: number;
}

export function changeOf(now: UnitFigures, before: UnitFigures): FiguresChange {
  return {
    publishedDirectories: now.mount.publishedDirectories - before.mount.publishedDirectories,
    mountedDirectories: now.mount.mountedDirectories - before.mount.mountedDirectories,
    dataVolume: subtractCounts(now.mount.dataVolume, before.mount.dataVolume),
    staleDirectories: now.mount.staleDirectories - before.mount.staleDirectories,
    mountRatePoints: percentagePointChange(ratioOf(now, RankingMetric.MOUNT_RATE), ratioOf(before, RankingMetric.MOUNT_RATE)),
    mainItems: now.supervision.mainItems - before.supervision.mainItems,
    coveredMainItems: now.supervision.coveredMainItems - before.supervision.coveredMainItems,
    mainCoverageRatePoints: percentagePointChange(ratioOf(now, RankingMetric.MAIN_COVERAGE_RATE), ratioOf(before, RankingMetric.MAIN_COVERAGE_RATE)),
    subItems: subItemsOf(now) - subItemsOf(before),
    coveredSubItems: coveredSubItemsOf(now) - coveredSubItemsOf(before),
    records: recordsOf(now) - recordsOf(before),
    subCoverageRatePoints: percentagePointChange(ratioOf(now, RankingMetric.SUB_COVERAGE_RATE), ratioOf(before, RankingMetric.SUB_COVERAGE_RATE)),
    subscriptionsMade: now.subscriptions.made - before.subscriptions.made,
    subscriptionsReceived: now.subscriptions.received - before.subscriptions.received,
    subscriptionsPending: now.subscriptions.pending - before.subscriptions.pending,
  };
}

/** a before b when a's rate n/d is higher; rates that do not exist last. */
function byRateDesc(an: number, ad: number, bn: number, bd: number): number {
  if (ad === 0 || bd === 0) return (ad === 0 ? 1 : 0) - (bd === 0 ? 1 : 0);
  return bn * ad - an * bd;
}

/**
 * The report's order (shared/domain.md, "The report's order"). Appendix 4:
 * mount rate, then published directories, then data volume; appendix 5:
 * main-item coverage rate, then sub-item coverage rate, then main items;
 * each highest first, then by name (code-point order). Units without a rate
 * come after those with one. The page (src/web) shows the tables in the
 * order `Region.report` returns them with `order`, which is this one.
 */
export function compareInReportOrder(table: 'resources' | 'supervision', a: UnitFigures, b: UnitFigures): number {
  if (table === 'resources') {
    return (
      byRateDesc(a.mount.mountedDirectories, a.mount.publishedDirectories, b.mount.mountedDirectories, b.mount.publishedDirectories) ||
      b.mount.publishedDirectories - a.mount.publishedDirectories ||
      compareCounts(b.mount.dataVolume, a.mount.dataVolume)
    );
  }
  return (
    byRateDesc(a.supervision.coveredMainItems, a.supervision.mainItems, b.supervision.coveredMainItems, b.supervision.mainItems) ||
    byRateDesc(coveredSubItemsOf(a), subItemsOf(a), coveredSubItemsOf(b), subItemsOf(b)) ||
    b.supervision.mainItems - a.supervision.mainItems
  );
}

/** Units in the report's order of `table`, name last (then key, so the order is total). */
export function sortInReportOrder<T extends { name: string; key: string; figures: UnitFigures }>(table: 'resources' | 'supervision', units: readonly T[]): T[] {
  if (table === 'resources')
    return [...units].sort((a, b) => compareInReportOrder(table, a.figures, b.figures) || compareNames(a.name, b.name) || compareNames(a.key, b.key));
  // The sub-item sums once per unit, not once per comparison (a province sorts 10,000 departments).
  const keyed = units.map((unit) => ({ unit, s: unit.figures.supervision, covered: coveredSubItemsOf(unit.figures), items: subItemsOf(unit.figures) }));
  keyed.sort(
    (a, b) =>
      byRateDesc(a.s.coveredMainItems, a.s.mainItems, b.s.coveredMainItems, b.s.mainItems) ||
      byRateDesc(a.covered, a.items, b.covered, b.items) ||
      b.s.mainItems - a.s.mainItems ||
      compareNames(a.unit.name, b.unit.name) ||
      compareNames(a.unit.key, b.unit.key),
  );
  return keyed.map((k) => k.unit);
}

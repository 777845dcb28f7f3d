import { SUPERVISION_CATEGORIES } from '../../src/modules/supervision/supervision.entity';

/**
 * Mulu's answers rebuilt from stored rows: small pure functions shared by the
 * benchmark's floor checks (scenarios.ts: every row of an answer against its
 * floor) and the peer comparison (peer-answers.ts: PostGraphile's answer
 * mapped onto Mulu's). Written again rather than imported from src/, so that
 * a slip in Mulu's arithmetic shows up as a difference.
 */

/** A PostgreSQL bigint as PostGraphile sends it (a string) in the form Mulu's `Count` takes: a number while exact, the digits beyond. */
export function count(value: string | number | null | undefined): number | string {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value).toString();
}

/** A timestamp (PostGraphile: `2023-12-24T14:30:00+00:00`, microseconds kept) as Mulu sends it (ISO, milliseconds, UTC). */
export function isoTime(value: string | null | undefined): string | null {
  return value == null ? null : new Date(value).toISOString();
}

/** num / den, null for nothing counted. */
export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/** num / den as a percentage rounded half-up to 2 decimals ("62.39"), in integers; null for nothing counted. */
export function percentText(num: number, den: number): string | null {
  if (den === 0) return null;
  const scaled = BigInt(num) * 10000n;
  const d = BigInt(den);
  const quotient = scaled / d;
  const hundredths = (scaled % d) * 2n >= d ? quotient + 1n : quotient;
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
}

export type Figures = Record<string, number | string>;

const int = (figures: Figures | null, field: string) => Number(figures?.[field] ?? 0);
const big = (figures: Figures | null, field: string) => BigInt(figures?.[field] ?? 0);

/** A unit's three statistics (Mulu's `mountStats`, `supervisionStats`, `subscriptionStats`) from its stored figures row; no row counts as zeros, as in Mulu. */
export function unitStats(figures: Figures | null) {
  const published = int(figures, 'publishedDirectories');
  const mounted = int(figures, 'mountedDirectories');
  const mainItems = int(figures, 'mainItems');
  const coveredMainItems = int(figures, 'coveredMainItems');
  const byCategory = SUPERVISION_CATEGORIES.map((category) => {
    const k = category.toLowerCase();
    const subItems = int(figures, `${k}Items`);
    const coveredSubItems = int(figures, `${k}Covered`);
    return {
      category,
      subItems,
      coveredSubItems,
      records: count(big(figures, `${k}Records`).toString()),
      coverageRate: ratio(coveredSubItems, subItems),
      coverageRatePercent: percentText(coveredSubItems, subItems),
    };
  });
  const subItems = byCategory.reduce((sum, c) => sum + c.subItems, 0);
  const coveredSubItems = byCategory.reduce((sum, c) => sum + c.coveredSubItems, 0);
  const records = SUPERVISION_CATEGORIES.reduce((sum, c) => sum + big(figures, `${c.toLowerCase()}Records`), 0n);
  return {
    mountStats: {
      publishedDirectories: published,
      mountedDirectories: mounted,
      dataVolume: count(big(figures, 'dataVolume').toString()),
      mountRate: ratio(mounted, published),
      mountRatePercent: percentText(mounted, published),
      staleDirectories: int(figures, 'staleDirectories'),
    },
    supervisionStats: {
      mainItems,
      coveredMainItems,
      mainCoverageRate: ratio(coveredMainItems, mainItems),
      mainCoverageRatePercent: percentText(coveredMainItems, mainItems),
      subItems,
      coveredSubItems,
      subCoverageRate: ratio(coveredSubItems, subItems),
      subCoverageRatePercent: percentText(coveredSubItems, subItems),
      records: count(records.toString()),
      byCategory,
    },
    subscriptionStats: {
      made: int(figures, 'subscriptionsMade'),
      received: int(figures, 'subscriptionsReceived'),
      pending: int(figures, 'subscriptionsPending'),
    },
  };
}

/** Byte order of the UTF-8 text, as PostgreSQL's collation "C" orders names. */
export const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Where two answers differ, as paths with both values (at most `limit`):
 * empty when they are equal field by field. Key order does not matter,
 * array order does.
 */
export function differences(a: unknown, b: unknown, path = '', limit = 5, found: string[] = []): string[] {
  if (found.length >= limit) return found;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) found.push(`${path || '.'}: ${a.length} items / ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], `${path}[${i}]`, limit, found);
  } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, limit, found);
  } else if (!Object.is(a, b)) {
    found.push(`${path || '.'}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  }
  return found.slice(0, limit);
}

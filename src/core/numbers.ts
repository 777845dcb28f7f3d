/** Converts a PostgreSQL count that cannot be beyond 2^53 (directories, items) to a number; see toCount for sums. */
export function toSafeNumber(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`count ${value} is beyond 2^53`);
  return n;
}

/** A ratio of counts; null when nothing is counted, as reports print "-". */
export function rate(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/**
 * The ratio as a percentage string rounded half-up to 2 decimals ("62.39"),
 * computed in integers so 0.125 never rounds the wrong way through binary
 * floating point. Null when the denominator is 0.
 */
export function percent(numerator: number, denominator: number): string | null {
  if (denominator === 0) return null;
  // The same integer arithmetic in doubles while every value in it is a whole number below 2^53 (every count a
  // figure holds): exact there, and without four BigInts (a ranking of 500 units prints some 4,000 percentages).
  if (numerator >= 0 && denominator > 0 && Number.isSafeInteger(numerator) && Number.isSafeInteger(denominator)) {
    const twice = 20000 * numerator + denominator;
    if (twice <= Number.MAX_SAFE_INTEGER) {
      const over = 2 * denominator;
      const hundredths = (twice - (twice % over)) / over;
      const frac = hundredths % 100;
      return `${(hundredths - frac) / 100}.${frac < 10 ? '0' : ''}${frac}`;
    }
  }
  const n = BigInt(numerator) * 10000n;
  const d = BigInt(denominator);
  // half-up: floor((2n + d) / 2d) for non-negative values
  const hundredths = (2n * n + d) / (2n * d);
  const whole = hundredths / 100n;
  const frac = (hundredths % 100n).toString().padStart(2, '0');
  return `${whole}.${frac}`;
}

/**
 * A count or a sum of counts that may go beyond 2^53 (data volumes summed up
 * to the province): a whole number, exact however large PostgreSQL's bigint
 * lets it be. In code a `Count` is a JS number while it is exact, and the
 * decimal digits as a string beyond.
 */
export type Count = number | string;

const WHOLE = /^-?\d{1,20}$/;

/** A PostgreSQL bigint/numeric (delivered as a string), a bigint or a safe number, as an exact Count. */
export function toCount(value: string | number | bigint | null | undefined): Count {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`count ${value} is not an exact whole number`);
    return value;
  }
  const text = typeof value === 'bigint' ? value.toString() : value.trim();
  if (!WHOLE.test(text)) throw new Error(`count "${text}" is not a whole number`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text).toString();
}

/** `a - b`, exact. */
export function subtractCounts(a: Count, b: Count): Count {
  return toCount(BigInt(a) - BigInt(b));
}

/** A sort comparator of counts, ascending, exact. */
export function compareCounts(a: Count, b: Count): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

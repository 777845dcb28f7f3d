/** Converts a PostgreSQL bigint/numeric (delivered as a string) to an exact JS number. */
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
  const n = BigInt(numerator) * 10000n;
  const d = BigInt(denominator);
  // half-up: floor((2n + d) / 2d) for non-negative values
  const hundredths = (2n * n + d) / (2n * d);
  const whole = hundredths / 100n;
  const frac = (hundredths % 100n).toString().padStart(2, '0');
  return `${whole}.${frac}`;
}

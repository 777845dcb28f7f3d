/**
 * A rate as the reports print it, worked out in the tests with integer
 * arithmetic, independently of the production `percent()`
 * (src/core/numbers.ts): numerator / denominator as a percentage rounded
 * half-up to 2 decimals (73/117 -> "62.39"), null when the denominator is 0.
 */
export function reportPercent(numerator: number | string, denominator: number | string): string | null {
  const n = BigInt(numerator);
  const d = BigInt(denominator);
  if (d === 0n) return null;
  // Hundredths of a percent, rounded half-up: floor((n * 10000 + d / 2) / d), kept whole by doubling.
  const hundredths = (n * 20_000n + d) / (2n * d);
  return `${hundredths / 100n}.${String(hundredths % 100n).padStart(2, '0')}`;
}

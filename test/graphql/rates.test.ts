import { percent, rate } from '../../src/core/numbers';

describe('rates', () => {
  it('is null, never 0 or NaN, when nothing is counted', () => {
    expect(rate(0, 0)).toBeNull();
    expect(percent(0, 0)).toBeNull();
    expect(rate(0, 5)).toBe(0);
  });

  it('prints percentages rounded half-up to 2 decimals, as the reports do', () => {
    expect(percent(73, 117)).toBe('62.39');
    expect(percent(1, 8)).toBe('12.50');
    expect(percent(2, 3)).toBe('66.67');
    expect(percent(1, 3)).toBe('33.33');
    expect(percent(5, 5)).toBe('100.00');
    expect(percent(0, 7)).toBe('0.00');
    // 1/80000 = 0.00125%: exactly half, rounds up (binary floating point would round it down)
    expect(percent(1, 80000)).toBe('0.00');
    expect(percent(1, 800)).toBe('0.13');
    expect(percent(1, 1600)).toBe('0.06');
  });

  it('prints the same percentages as whole-number arithmetic in BigInt, small counts or large', () => {
    const reference = (numerator: number, denominator: number) => {
      const hundredths = (2n * BigInt(numerator) * 10000n + BigInt(denominator)) / (2n * BigInt(denominator));
      return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
    };
    const pairs: [number, number][] = [];
    for (let d = 1; d <= 400; d++) for (let n = 0; n <= d; n++) pairs.push([n, d]);
    // Exact halves of a hundredth (n / d = k / 20000 with k odd), and counts near where doubles stop being exact.
    for (let k = 1; k < 2000; k += 2) pairs.push([k, 20000], [k * 7, 140000]);
    const big = Math.floor(Number.MAX_SAFE_INTEGER / 20000);
    for (const [n, d] of [
      [big, big],
      [big - 1, big],
      [big, big + 1],
      [1, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
      [123456789012, 987654321098],
    ] as [number, number][])
      pairs.push([n, d]);
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const d = 1 + (seed % 1000003) * (1 + (i % 1000));
      pairs.push([Math.floor((d * (seed % 10007)) / 10007), d]);
    }
    const wrong = pairs.filter(([n, d]) => percent(n, d) !== reference(n, d));
    expect(wrong.slice(0, 5).map(([n, d]) => [n, d, percent(n, d), reference(n, d)])).toEqual([]);
    expect(pairs.length).toBeGreaterThan(100000);
  });
});

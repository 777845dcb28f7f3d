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
});

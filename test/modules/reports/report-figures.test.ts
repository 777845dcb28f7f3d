import { compareRatesHighestFirst, isBelow, percentagePointChange } from '../../../src/modules/reports/report-figures';
import { currentPeriod, previousPeriod, requireBegunPeriod, requirePeriod } from '../../../src/modules/reports/period';
import { buildTable, toCsv } from '../../../src/modules/reports/export.service';
import { ReportUnitKind, type UnitFigures } from '../../../src/modules/reports/report-snapshot.entity';
import { SupervisionCategory } from '../../../src/modules/supervision/supervision.entity';

const figures = (published: number, mounted: number, volume: number): UnitFigures => ({
  mount: { publishedDirectories: published, mountedDirectories: mounted, dataVolume: volume, staleDirectories: 0 },
  supervision: {
    mainItems: 0,
    coveredMainItems: 0,
    byCategory: [SupervisionCategory.INSPECTION, SupervisionCategory.PENALTY, SupervisionCategory.COERCION, SupervisionCategory.OTHER].map((category) => ({
      category,
      subItems: 0,
      coveredSubItems: 0,
      records: 0,
    })),
  },
  subscriptions: { made: 0, received: 0, pending: 0 },
});

/** Supervision figures: main items covered of total, and per category [covered, total] sub-items (INSPECTION, PENALTY, COERCION, OTHER). */
const supervisionFigures = (coveredMains: number, mains: number, ...categories: [number, number][]): UnitFigures => ({
  ...figures(0, 0, 0),
  supervision: {
    mainItems: mains,
    coveredMainItems: coveredMains,
    byCategory: [SupervisionCategory.INSPECTION, SupervisionCategory.PENALTY, SupervisionCategory.COERCION, SupervisionCategory.OTHER].map((category, i) => {
      const [covered, items] = categories[i] ?? [0, 0];
      return { category, subItems: items, coveredSubItems: covered, records: covered * 10 };
    }),
  },
});

describe('report figures', () => {
  it('writes rate changes as the difference of the printed percentages, null when either rate is', () => {
    // 8/31 = 25.81 %, 73/263 = 27.76 %: -1.95 points.
    expect(percentagePointChange({ numerator: 8, denominator: 31 }, { numerator: 73, denominator: 263 })).toBe(-1.95);
    expect(percentagePointChange({ numerator: 1, denominator: 3 }, { numerator: 1, denominator: 3 })).toBe(0);
    expect(percentagePointChange({ numerator: 2, denominator: 4 }, { numerator: 1, denominator: 3 })).toBe(16.67);
    expect(percentagePointChange({ numerator: 0, denominator: 0 }, { numerator: 1, denominator: 3 })).toBeNull();
    expect(percentagePointChange({ numerator: 1, denominator: 3 }, { numerator: 0, denominator: 0 })).toBeNull();
  });

  it('compares rates exactly, highest first, units without a rate last; a missing rate is never below', () => {
    const rates = [
      { numerator: 1, denominator: 3 },
      { numerator: 0, denominator: 0 },
      { numerator: 2, denominator: 6 },
      { numerator: 1, denominator: 1 },
    ];
    expect([...rates].sort(compareRatesHighestFirst)).toEqual([rates[3], rates[0], rates[2], rates[1]]);
    expect(isBelow({ numerator: 0, denominator: 0 }, 0.6)).toBe(false);
    expect(isBelow({ numerator: 3, denominator: 5 }, 0.6)).toBe(false);
    expect(isBelow({ numerator: 2, denominator: 5 }, 0.6)).toBe(true);
  });

  it('compares a rate with a threshold exactly, as the decimal written: 55/100 is not below 0.55', () => {
    // In floating point 0.55 * 100 is 55.00000000000001, 0.07 * 100 is 7.000000000000001, 0.57 * 100 is 56.99999999999999.
    expect(isBelow({ numerator: 55, denominator: 100 }, 0.55)).toBe(false);
    expect(isBelow({ numerator: 54, denominator: 100 }, 0.55)).toBe(true);
    expect(isBelow({ numerator: 7, denominator: 100 }, 0.07)).toBe(false);
    expect(isBelow({ numerator: 14, denominator: 200 }, 0.07)).toBe(false);
    expect(isBelow({ numerator: 6, denominator: 100 }, 0.07)).toBe(true);
    expect(isBelow({ numerator: 69_999_999, denominator: 1_000_000_000 }, 0.07)).toBe(true);
    expect(isBelow({ numerator: 57, denominator: 100 }, 0.57)).toBe(false);
    expect(isBelow({ numerator: 29, denominator: 100 }, 0.29)).toBe(false);
    // 1/3 is above 0.3333333333333333, the threshold as written.
    expect(isBelow({ numerator: 1, denominator: 3 }, 0.3333333333333333)).toBe(false);
    expect(isBelow({ numerator: 0, denominator: 5 }, 1e-7)).toBe(true);
    expect(isBelow({ numerator: 1, denominator: 10_000_000 }, 1e-7)).toBe(false);
    expect(isBelow({ numerator: 5, denominator: 5 }, 1)).toBe(false);
    expect(isBelow({ numerator: 0, denominator: 5 }, 0)).toBe(false);
  });

  it('validates periods and steps back a month', () => {
    expect(requirePeriod(' 2023-06 ')).toBe('2023-06');
    for (const bad of ['2023-6', '2023-13', '2023-00', '23-06', '2023/06', '1999-12']) expect(() => requirePeriod(bad)).toThrow('YYYY-MM');
    expect(previousPeriod('2023-01')).toBe('2022-12');
    expect(previousPeriod('2023-10')).toBe('2023-09');
    // China Standard Time: 16:30 UTC on the last day of June is already July in Anyang.
    expect(currentPeriod(new Date('2023-06-30T16:30:00Z'))).toBe('2023-07');
    expect(currentPeriod(new Date('2023-06-30T15:59:59Z'))).toBe('2023-06');
  });

  it('accepts for a snapshot only a month that has begun in China Standard Time', () => {
    const lateJuneUtc = new Date('2023-06-30T15:59:59Z');
    expect(requireBegunPeriod('2023-06', 'period', lateJuneUtc)).toBe('2023-06');
    expect(requireBegunPeriod('2022-12', 'period', lateJuneUtc)).toBe('2022-12');
    expect(() => requireBegunPeriod('2023-07', 'period', lateJuneUtc)).toThrow(
      'The period 2023-07 has not begun: the current month is 2023-06 (China Standard Time).',
    );
    // One second later it is 1 July in Anyang.
    expect(requireBegunPeriod('2023-07', 'period', new Date('2023-06-30T16:00:00Z'))).toBe('2023-07');
    expect(() => requireBegunPeriod('2024-01', 'period', new Date('2023-12-31T12:00:00Z'))).toThrow('has not begun');
    expect(() => requireBegunPeriod('2023-13', 'period', lateJuneUtc)).toThrow('YYYY-MM');
  });

  it('builds appendix 4 in report order with "-" for a missing rate and quotes CSV cells that need it', () => {
    const unit = (name: string, f: UnitFigures) => ({ kind: ReportUnitKind.DEPARTMENT, key: name, name, regionCode: '410505', figures: f });
    const table = buildTable('resources', '殷都区', '2023-06', { ...unit('殷都区', figures(12, 12, 11620)), kind: ReportUnitKind.REGION }, [
      unit('殷都区司法局', figures(6, 6, 27)),
      unit('殷都区新部门', figures(0, 0, 0)),
      unit('殷都区教育局', figures(6, 6, 11593)),
    ]);
    // Then the use of hosted data (provided and used: requests, rows), none here.
    expect(table.rows).toEqual([
      ['殷都区教育局', 6, 6, 11593, '100.00%', 0, 0, 0, 0],
      ['殷都区司法局', 6, 6, 27, '100.00%', 0, 0, 0, 0],
      ['殷都区新部门', 0, 0, 0, '-', 0, 0, 0, 0],
      ['合计', 12, 12, 11620, '100.00%', 0, 0, 0, 0],
    ]);
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"']]).toString('utf8')).toBe('\uFEFFa,b\r\n"x,y","say ""hi"""\r\n');
  });

  it('writes CSV text that a spreadsheet program would run as a formula with a leading single quote', () => {
    const rows = [
      ['=HYPERLINK("http://example.com/x","殷都区")', 1],
      ['+8637251234567', 2],
      ['-2+3', 3],
      ['@SUM(A1:A9)', 4],
      ['\tcmd', 5],
      ['\r=1', 6],
      ['-', -7],
      ['殷都区-教育局', 8],
    ];
    const lines = toCsv(['部门', '数'], rows).toString('utf8').slice(1).split('\r\n');
    expect(lines).toEqual([
      '部门,数',
      `"'=HYPERLINK(""http://example.com/x"",""殷都区"")",1`,
      "'+8637251234567,2",
      "'-2+3,3",
      "'@SUM(A1:A9),4",
      "'\tcmd,5",
      `"'\r=1",6`,
      // The printed missing rate is no formula; a number stays a number.
      '-,-7',
      '殷都区-教育局,8',
      '',
    ]);
  });

  it('orders appendix 5 by main-item coverage, then sub-item coverage over all categories, then name; units without a rate last', () => {
    const unit = (name: string, f: UnitFigures) => ({ kind: ReportUnitKind.DEPARTMENT, key: name, name, regionCode: '410505', figures: f });
    const departments = [
      // No main items: no main rate, last, however well its sub-items are covered.
      unit('己', supervisionFigures(0, 0, [5, 5])),
      // 2/3 of main items: 甲, 乙 (4/6, the same rate), 丙 and 丁 tie on the first key.
      unit('甲', supervisionFigures(2, 3, [1, 2])),
      unit('丁', supervisionFigures(2, 3)),
      unit('乙', supervisionFigures(4, 6, [2, 2], [1, 2])),
      unit('丙', supervisionFigures(2, 3, [1, 1], [1, 3])),
      // Every main item covered: first, though only 1 of 5 sub-items is.
      unit('戊', supervisionFigures(1, 1, [0, 2], [0, 2], [1, 1])),
    ];
    const region = { ...unit('殷都区', supervisionFigures(11, 16, [9, 12], [2, 7], [1, 1])), kind: ReportUnitKind.REGION };
    const table = buildTable('supervision', '殷都区', '2023-06', region, departments);
    // 乙 (sub-items 3/4) before 丙 and 甲 (both 2/4: by name, 丙 U+4E19 before 甲 U+7532), then 丁 (no sub-items).
    expect(table.rows.map((row) => [row[0], row[3], row[16]])).toEqual([
      ['戊', '100.00%', '20.00%'],
      ['乙', '66.67%', '75.00%'],
      ['丙', '66.67%', '50.00%'],
      ['甲', '66.67%', '50.00%'],
      ['丁', '66.67%', '-'],
      ['己', '-', '100.00%'],
      ['合计', '68.75%', '60.00%'],
    ]);
    // Whatever order the departments come in.
    expect(buildTable('supervision', '殷都区', '2023-06', region, [...departments].reverse()).rows).toEqual(table.rows);
  });
});

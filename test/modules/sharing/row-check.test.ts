import { ItemValueType, type InformationItem } from '../../../src/modules/catalogue/directory.entity';
import type { RowError } from '../../../src/modules/sharing/dataset.entity';
import { RowChecker } from '../../../src/modules/sharing/row-check';

const ITEMS: InformationItem[] = [
  { name: '姓名', dataType: '字符型', required: true },
  { name: '年龄', dataType: '整数型' },
  { name: '金额', dataType: '数值型' },
  { name: '日期', dataType: '日期型' },
  { name: '时间', dataType: '时间型' },
  { name: '在册', dataType: '布尔型' },
] as InformationItem[];

/** Spellings the fast path takes and those it leaves to parseValue, good and bad. */
const VALUES: Record<string, string[]> = {
  [ItemValueType.STRING]: ['', '甲', 'a "quoted" \\ text', ' padded ', 'nul\u0000', '\t', 'half \ud800 a pair', '\udfff', 'a pair 😀'],
  [ItemValueType.INTEGER]: ['', '0', '7', '007', '-3', '+4', ' 5 ', '123456789012345', '1234567890123456', '99999999999999999', '1.5', 'x'],
  [ItemValueType.DECIMAL]: ['', '0', '1.', '.5', '88.10', '+1.2', '-0.5', '1.2.3', '.', '1e5', '1'.repeat(38), '1'.repeat(39), ' 2.5 '],
  [ItemValueType.DATE]: [
    '',
    '2024-02-29',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-1-5',
    '2024/01/05',
    '0050-01-01',
    '2024-04-31',
    '2024-12-31',
    ' 2024-01-01',
  ],
  [ItemValueType.DATETIME]: ['', '2024-01-01T08:00:00', '2024-01-01 08:00', 'bad'],
  [ItemValueType.BOOLEAN]: ['', '是', '否', 'true', 'false', 'TRUE', '1', '0', 'y', 'maybe'],
};

describe('RowChecker.checkCells', () => {
  it('stores and refuses exactly what check() does on the same values', () => {
    const checker = new RowChecker(ITEMS);
    const columns = ['在册', '时间', '日期', '金额', '年龄', '姓名'];
    checker.checkHeader(columns);
    let row = 0;
    for (const item of checker.items) {
      for (const value of VALUES[item.type]) {
        const values: Record<string, string> = { 姓名: '某', [item.name]: value };
        const cells = columns.map((c) => values[c] ?? '');
        const slow: RowError[] = [];
        const fast: RowError[] = [];
        row++;
        expect([item.name, value, checker.checkCells(cells, row, fast), fast]).toEqual([item.name, value, checker.check(values, row, slow), slow]);
      }
    }
  });

  it('refuses a required text item sent blank (spaces or invisible characters only) and keeps such a value in an item not required', () => {
    const checker = new RowChecker([
      { name: '姓名', dataType: '字符型', required: true },
      { name: '备注', dataType: '字符型' },
    ] as InformationItem[]);
    checker.checkHeader(['姓名', '备注']);
    for (const blank of ['   ', '\t', '\u3000', '\u200b', ' \ufeff ']) {
      const slow: RowError[] = [];
      const fast: RowError[] = [];
      expect(checker.check({ 姓名: blank, 备注: 'x' }, 2, slow)).toBeNull();
      expect(checker.checkCells([blank, 'x'], 2, fast)).toBeNull();
      expect(slow).toEqual([{ row: 2, column: '姓名', reason: '姓名 is required; the value sent is blank (only spaces or invisible characters).' }]);
      expect(fast).toEqual(slow);
    }
    const kept: RowError[] = [];
    expect(checker.check({ 姓名: ' 张三 ', 备注: '  ' }, 3, kept)).toBe(JSON.stringify({ 姓名: ' 张三 ', 备注: '  ' }));
    expect(checker.checkCells([' 张三 ', '  '], 3, kept)).toBe(JSON.stringify({ 姓名: ' 张三 ', 备注: '  ' }));
    expect(kept).toEqual([]);
  });
});

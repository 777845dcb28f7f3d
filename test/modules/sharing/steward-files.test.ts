import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { ItemValueType, type InformationItem } from '../../../src/modules/catalogue/directory.entity';
import { parseValue } from '../../../src/modules/catalogue/item-value-type';
import type { SourceRow } from '../../../src/modules/sharing/dataset.service';
import type { RowError } from '../../../src/modules/sharing/dataset.entity';
import { RowChecker } from '../../../src/modules/sharing/row-check';
import { csvRows, ndjsonRows, utf8Text, xlsxRows } from '../../../src/modules/sharing/sharing.routes';

/**
 * Files as stewards of Chinese government departments send them: Excel on
 * Chinese Windows (GBK CSV, 2026/1/5 8:30 date-times, date cells), full-width
 * characters typed with a Chinese input method, headers padded or spelt in
 * another Unicode form.
 */

const value = (type: ItemValueType, raw: unknown) => parseValue(type, raw);
const stored = (type: ItemValueType, raw: unknown) => {
  const parsed = parseValue(type, raw);
  return parsed.ok ? parsed.value : `refused: ${parsed.reason}`;
};

/** The rows a CSV body gives, and the header it announced. */
async function readCsv(chunks: Buffer[], charset = 'utf-8'): Promise<{ header: string[]; rows: SourceRow[] }> {
  let header: string[] = [];
  const rows: SourceRow[] = [];
  for await (const batch of csvRows(utf8Text(Readable.from(chunks), charset), (columns) => (header = columns), charset)) rows.push(...batch);
  return { header, rows };
}

async function readXlsx(workbook: ExcelJS.Workbook): Promise<{ header: string[]; rows: SourceRow[] }> {
  let header: string[] = [];
  const rows: SourceRow[] = [];
  const body = Readable.from([Buffer.from(await workbook.xlsx.writeBuffer())]);
  for await (const row of xlsxRows(body, (columns) => (header = columns))) rows.push(row);
  return { header, rows };
}

describe('values as stewards write them (parseValue, shared by every load route and the row filters)', () => {
  it('reads a date and a date-time as Excel on Chinese Windows saves them in CSV, and as 年月日', () => {
    expect(stored(ItemValueType.DATE, '2026年1月5日')).toBe('2026-01-05');
    expect(stored(ItemValueType.DATE, '2026/1/5')).toBe('2026-01-05');
    expect(stored(ItemValueType.DATE, '2026年2月30日')).toMatch(/^refused: "2026年2月30日" is not a date/);
    // No zone: China Standard Time, stored in UTC.
    expect(stored(ItemValueType.DATETIME, '2026/1/5 8:30')).toBe('2026-01-05T00:30:00.000Z');
    expect(stored(ItemValueType.DATETIME, '2026-1-5 08:30:15')).toBe('2026-01-05T00:30:15.000Z');
    expect(stored(ItemValueType.DATETIME, '2026年1月5日 23:59')).toBe('2026-01-05T15:59:00.000Z');
    expect(stored(ItemValueType.DATETIME, '2026-01-05T08:30:00Z')).toBe('2026-01-05T08:30:00.000Z');
    expect(stored(ItemValueType.DATETIME, '2026-01-05 08:30:00+0000')).toBe('2026-01-05T08:30:00.000Z');
    expect(stored(ItemValueType.DATETIME, '2026/1/5 24:00')).toMatch(/^refused: .*not a date and time/);
    expect(stored(ItemValueType.DATETIME, '2026-01-05')).toMatch(/^refused: .*not a date and time/);
  });

  it('folds the full-width digits, point, minus and colon of a Chinese input method in typed values, and keeps text as sent', () => {
    expect(stored(ItemValueType.INTEGER, '１２３')).toBe(123);
    expect(stored(ItemValueType.DECIMAL, '－１２．５０')).toBe('-12.50');
    expect(stored(ItemValueType.DATE, '２０２６－０１－０５')).toBe('2026-01-05');
    expect(stored(ItemValueType.DATETIME, '２０２６/１/５　８：３０')).toBe('2026-01-05T00:30:00.000Z');
    expect(stored(ItemValueType.BOOLEAN, 'ＴＲＵＥ')).toBe(true);
    expect(stored(ItemValueType.STRING, '９１４１０５００ＭＡ')).toBe('９１４１０５００ＭＡ');
    // Still refused: thousands separators, scientific notation (a decimal is kept as its digits).
    expect(value(ItemValueType.DECIMAL, '1,234').ok).toBe(false);
    expect(value(ItemValueType.DECIMAL, '1.5E3').ok).toBe(false);
  });

  it('reads a workbook date cell as China Standard Time wall-clock time, as a date-time written without a zone', () => {
    // exceljs gives 2026-01-05 08:30 typed into a cell as a Date whose UTC fields are 08:30.
    const cell = new Date(Date.UTC(2026, 0, 5, 8, 30));
    expect(stored(ItemValueType.DATETIME, cell)).toBe(stored(ItemValueType.DATETIME, '2026-01-05 08:30'));
    expect(stored(ItemValueType.DATETIME, cell)).toBe('2026-01-05T00:30:00.000Z');
    expect(stored(ItemValueType.DATE, cell)).toBe('2026-01-05');
    expect(stored(ItemValueType.STRING, cell)).toBe('2026-01-05 08:30:00');
    expect(stored(ItemValueType.STRING, new Date(Date.UTC(2026, 0, 5)))).toBe('2026-01-05');
    // A time cell (08:30 with no date): day 0 of the 1900 system.
    const time = new Date(Date.UTC(1899, 11, 30, 8, 30));
    expect(stored(ItemValueType.STRING, time)).toBe('08:30:00');
    expect(stored(ItemValueType.DATETIME, time)).toBe('refused: is a time of day (08:30:00) without a date');
  });

  it('refuses a number that has lost digits for a text item (an identity card number typed as a number)', () => {
    expect(stored(ItemValueType.STRING, Number('110101199001011234'))).toMatch(/^refused: 110101199001011230 was sent as a number and has lost digits/);
    expect(stored(ItemValueType.STRING, 1e21)).toMatch(/^refused: 1e\+21 was sent as a number/);
    expect(stored(ItemValueType.STRING, 9007199254740991)).toBe('9007199254740991');
    expect(stored(ItemValueType.STRING, '110101199001011234')).toBe('110101199001011234');
  });
});

describe('headers as stewards write them (RowChecker)', () => {
  const ITEMS = [
    { name: '姓名', dataType: '字符型', required: true },
    { name: 'ID', dataType: '字符型' },
    { name: 'Café', dataType: '字符型' },
  ] as InformationItem[];

  it('matches a column padded with spaces or ideographic spaces, in full-width letters or decomposed, to its item', () => {
    const checker = new RowChecker(ITEMS);
    checker.checkHeader(['\u3000姓名 ', 'ＩＤ', 'Cafe\u0301']);
    const errors: RowError[] = [];
    expect(checker.checkCells(['甲', '007', 'x'], 2, errors)).toBe(JSON.stringify({ 姓名: '甲', ID: '007', Café: 'x' }));
    // The same in a JSON row: stored under the item's own name.
    expect(checker.check({ 姓名: '甲', ＩＤ: '007' }, 3, errors)).toBe(JSON.stringify({ 姓名: '甲', ID: '007' }));
    expect(errors).toEqual([]);
    expect(checker.check({ 姓名: '甲', ID: '1', ＩＤ: '2' }, 4, errors)).toBeNull();
    expect(errors).toEqual([{ row: 4, column: 'ＩＤ', reason: '"ＩＤ" names the item ID again.' }]);
  });

  it('refuses a header naming one item twice in two spellings, and says so of a semicolon- or tab-separated file', () => {
    expect(() => new RowChecker(ITEMS).checkHeader(['姓名', 'ID', 'ＩＤ'])).toThrow('Column "ＩＤ" appears twice (as item ID). Nothing was stored.');
    expect(() => new RowChecker(ITEMS).checkHeader(['姓名;ID;Café'])).toThrow(/Mulu reads comma-separated files only/);
    expect(() => new RowChecker(ITEMS).checkHeader(['姓名\tID'])).toThrow(/Mulu reads comma-separated files only/);
    expect(() => new RowChecker(ITEMS).checkHeader(['姓名', '电话'])).not.toThrow(/comma-separated/);
  });

  it('says that a title row above the header is read as the header, and how to mend the file, rather than only naming an unknown column', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('数据');
    sheet.addRow(['殷都区低保对象名册']);
    sheet.mergeCells('A1:C1');
    sheet.addRow(['姓名', 'ID', 'Café']);
    sheet.addRow(['甲', '1', 'x']);
    const { header } = await readXlsx(workbook);
    expect(() => new RowChecker(ITEMS).checkHeader(header)).toThrow(
      'Unknown column(s) "殷都区低保对象名册"; the directory\'s information items are: 姓名, ID, Café. The first row holding a value is the header, and this one holds "殷都区低保对象名册" alone: is it a title above the header? Delete the rows above the header row, so that it is the first. Nothing was stored.',
    );
    // A CSV saved from such a sheet: the title and the separators of its empty cells.
    expect(() => new RowChecker(ITEMS).checkHeader(['殷都区低保对象名册', '', ''])).toThrow(/is it a title above the header\?/);
    expect(() => new RowChecker(ITEMS).checkHeader(['姓名', '电话'])).not.toThrow(/title/);
  });
});

describe('CSV files as stewards send them', () => {
  it('skips rows of separators only (a spreadsheet program writes them for formatted empty rows), and reads lone CR line ends', async () => {
    const { header, rows } = await readCsv([Buffer.from('姓名,ID\r甲,1\r,\r\n,\n乙,"2\r\n3"\n')]);
    expect(header).toEqual(['姓名', 'ID']);
    expect(rows).toEqual([
      { row: 2, cells: ['甲', '1'] },
      { row: 5, cells: ['乙', '2\r\n3'] },
    ]);
  });

  it('decodes a GBK file declared as such, wherever the body is cut; refuses an undeclared one at its header', async () => {
    // "姓名,备注\n张三,是\n" in GBK, as Excel on Chinese Windows saves "CSV (comma delimited)".
    const gbk = Buffer.from('d0d5c3fb2cb1b8d7a20ad5c5c8fd2ccac70a', 'hex');
    const whole = await readCsv([gbk], 'gb18030');
    expect(whole).toEqual({ header: ['姓名', '备注'], rows: [{ row: 2, cells: ['张三', '是'] }] });
    for (let cut = 1; cut < gbk.length; cut++) expect(await readCsv([gbk.subarray(0, cut), gbk.subarray(cut)], 'gb18030')).toEqual(whole);
    await expect(readCsv([gbk])).rejects.toThrow(/^The header row is not UTF-8 text\. .*charset=gb18030/);
  });

  it('tells a file declared GBK whose bytes are not GBK that it is not the charset it declares, not that it is not UTF-8 (CSV and NDJSON)', async () => {
    // 0xFF starts no GBK character: a file saved in some other charset, or cut.
    const { rows } = await readCsv([Buffer.from('d0d5c3fb0a61ff0a', 'hex')], 'gb18030');
    expect(rows).toEqual([{ row: 2, unreadable: expect.stringMatching(/^This row is not gb18030 text, the charset its content type declares: /) }]);
    await expect(readCsv([Buffer.from('ff0a610a', 'hex')], 'gb18030')).rejects.toThrow(
      /^The header row is not gb18030 text, the charset its content type declares: .* Nothing was stored\.$/,
    );
    const lines: SourceRow[] = [];
    for await (const row of ndjsonRows(utf8Text(Readable.from([Buffer.from('{"a":"\xff"}\n', 'latin1')]), 'gb18030'), 'gb18030')) lines.push(row);
    expect(lines).toEqual([{ row: 1, unreadable: expect.stringMatching(/^This row is not gb18030 text/) }]);
  });

  it('decodes any other charset the Encoding Standard names: Big5, windows-1252, UTF-16 with its byte-order mark', async () => {
    // "姓名,備註\n張三,是\n" in Big5 (traditional characters, as Taiwan and Hong Kong systems save it).
    expect(await readCsv([Buffer.from('a9 6d a6 57 2c b3 c6 b5 f9 0a b1 69 a4 54 2c ac 4f 0a'.replace(/ /g, ''), 'hex')], 'big5')).toEqual({
      header: ['姓名', '備註'],
      rows: [{ row: 2, cells: ['張三', '是'] }],
    });
    expect(await readCsv([Buffer.from('name,note\nCaf\xe9,\x80\n', 'latin1')], 'windows-1252')).toEqual({
      header: ['name', 'note'],
      rows: [{ row: 2, cells: ['Café', '€'] }],
    });
    expect(await readCsv([Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('姓名\n张三\n', 'utf16le')])], 'utf-16le')).toEqual({
      header: ['姓名'],
      rows: [{ row: 2, cells: ['张三'] }],
    });
  });
});

describe('XLSX workbooks as stewards send them', () => {
  it('reads date cells (1900 and 1904 systems), formulas by their saved value, text that looks like a number as typed', async () => {
    for (const date1904 of [false, true]) {
      const workbook = new ExcelJS.Workbook();
      workbook.properties.date1904 = date1904;
      const sheet = workbook.addWorksheet('数据');
      sheet.addRow(['姓名', '统一社会信用代码', '电话', '发放时间', '金额']);
      sheet.addRow(['甲', '0914105000000000X1', '03723335566', new Date(Date.UTC(2026, 0, 5, 8, 30)), { formula: 'B2*0', result: 0.3 }]);
      sheet.getCell('D2').numFmt = 'yyyy-mm-dd hh:mm';
      workbook.addWorksheet('隐藏').addRow(['不读']);
      const { header, rows } = await readXlsx(workbook);
      expect(header).toEqual(['姓名', '统一社会信用代码', '电话', '发放时间', '金额']);
      expect(rows).toEqual([
        {
          row: 2,
          values: { 姓名: '甲', 统一社会信用代码: '0914105000000000X1', 电话: '03723335566', 发放时间: new Date(Date.UTC(2026, 0, 5, 8, 30)), 金额: 0.3 },
        },
      ]);
      expect(stored(ItemValueType.DATETIME, (rows[0] as { values: Record<string, unknown> }).values['发放时间'])).toBe('2026-01-05T00:30:00.000Z');
    }
  });

  it('reads a formula giving a date (a cell formatted as a date) as that date, not as its serial, in either date system', async () => {
    const day = (Date.UTC(2026, 0, 5) - Date.UTC(1899, 11, 30)) / 86_400_000; // 2026-01-05 as a 1900-system serial
    for (const date1904 of [false, true]) {
      const workbook = new ExcelJS.Workbook();
      workbook.properties.date1904 = date1904;
      const sheet = workbook.addWorksheet('数据');
      sheet.addRow(['姓名', '到期日', '天数']);
      sheet.addRow(['甲', { formula: 'DATE(2026,1,5)', result: date1904 ? day - 1462 : day }, { formula: '30+0', result: 30 }]);
      sheet.getCell('B2').numFmt = 'yyyy"年"m"月"d"日"';
      const { rows } = await readXlsx(workbook);
      expect(rows).toEqual([{ row: 2, values: { 姓名: '甲', 到期日: new Date(Date.UTC(2026, 0, 5)), 天数: 30 } }]);
      expect(stored(ItemValueType.DATE, (rows[0] as { values: Record<string, unknown> }).values['到期日'])).toBe('2026-01-05');
    }
  });

  it('reads the first visible sheet: a hidden sheet before it (a lookup list, data set aside) is not the one the steward sees', async () => {
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('代码表', { state: 'hidden' }).addRow(['代码', '名称']);
    workbook.addWorksheet('旧数据', { state: 'veryHidden' }).addRow(['姓名']);
    const sheet = workbook.addWorksheet('数据');
    sheet.addRow(['姓名', '金额']);
    sheet.addRow(['甲', 1]);
    expect(await readXlsx(workbook)).toEqual({ header: ['姓名', '金额'], rows: [{ row: 2, values: { 姓名: '甲', 金额: 1 } }] });
  });

  it('reads a number shown with leading zeros (cell format "000000") as the text it shows; a number item reads it as the number', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('数据');
    sheet.addRow(['邮编', '户数', '金额']);
    sheet.addRow([55000, 7, 12]);
    sheet.getCell('A2').numFmt = '000000';
    sheet.getCell('B2').numFmt = '000';
    sheet.getCell('C2').numFmt = '0';
    const { rows } = await readXlsx(workbook);
    expect(rows).toEqual([{ row: 2, values: { 邮编: '055000', 户数: '007', 金额: 12 } }]);
    expect(stored(ItemValueType.STRING, '055000')).toBe('055000');
    expect(stored(ItemValueType.INTEGER, '007')).toBe(7);
  });

  it('takes the first row holding a value as the header: formatted empty rows above it are skipped', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('数据');
    sheet.getCell('A1').numFmt = '@';
    sheet.getCell('B2').value = '';
    sheet.getRow(3).values = ['姓名', '金额'];
    sheet.getRow(4).values = ['甲', 1];
    expect(await readXlsx(workbook)).toEqual({ header: ['姓名', '金额'], rows: [{ row: 4, values: { 姓名: '甲', 金额: 1 } }] });
  });

  it('reads a number cell to the 15 digits Excel shows, not the 17 it saves for a computed amount', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('数据');
    sheet.addRow(['姓名', '金额', '比例']);
    sheet.addRow(['甲', { formula: '0.1+0.2', result: 0.1 + 0.2 }, 12345.670000000002]);
    sheet.addRow(['乙', 88.1, 0.15]);
    const { rows } = await readXlsx(workbook);
    const amounts = rows.map((r) => (r as { values: Record<string, unknown> }).values);
    expect(amounts.map((v) => [stored(ItemValueType.DECIMAL, v['金额']), stored(ItemValueType.DECIMAL, v['比例'])])).toEqual([
      ['0.3', '12345.67'],
      ['88.1', '0.15'],
    ]);
  });

  it('refuses a row holding a spreadsheet error (#DIV/0!, #N/A), as a value or a formula result, instead of reading it as empty', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('数据');
    sheet.addRow(['姓名', '金额']);
    sheet.addRow(['甲', { formula: '1/0', result: { error: '#DIV/0!' } }]);
    sheet.addRow(['乙', { error: '#N/A' }]);
    sheet.addRow(['丙', 1]);
    const { rows } = await readXlsx(workbook);
    expect(rows).toEqual([
      {
        row: 2,
        unreadable:
          'Column 金额 holds a formula (1/0) without a saved value: its result is an error (#DIV/0!, #N/A, ...) or was never calculated, not a value.',
      },
      { row: 3, unreadable: 'Column 金额 holds the spreadsheet error #N/A, not a value.' },
      { row: 4, values: { 姓名: '丙', 金额: 1 } },
    ]);
  });
});

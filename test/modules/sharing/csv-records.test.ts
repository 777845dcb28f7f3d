import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { csvRecords } from '../../../src/modules/sharing/csv-records';

/** The records of `chunks` sent as a body, flattened. */
async function read(chunks: (string | Buffer)[]): Promise<{ record: number; cells: string[] }[]> {
  const out: { record: number; cells: string[] }[] = [];
  for await (const batch of csvRecords(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c))))) out.push(...batch);
  return out;
}

const SAMPLE = '\uFEFF姓名,备注,金额\n"王,五","他说""好""\n第二行",88.10\n\n钱七,,\n孙八,"",1\n"末尾",无换行,2';

describe('csvRecords', () => {
  it('reads quoted commas, doubled quotes, line breaks in quotes, CRLF, a BOM and empty lines as csv-parse does', async () => {
    const expected = parse(SAMPLE, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
    const records = await read([SAMPLE]);
    expect(records.map((r) => r.cells)).toEqual(expected);
    expect(records.map((r) => r.record)).toEqual([1, 2, 3, 4, 5]);
    // Windows line ends (also mixed, which csv-parse refuses) read the same; a line break inside quotes is kept as sent.
    const crlf = SAMPLE.replace(/\n(?!第二行)/g, '\r\n').replace('钱七,,\r\n', '钱七,,\n');
    expect(await read([crlf])).toEqual(records);
  });

  it('gives the same records wherever the body is cut into chunks, also inside a character', async () => {
    const bytes = Buffer.from(SAMPLE, 'utf8');
    const whole = await read([bytes]);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await read([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
    }
  });

  it('refuses malformed quoting with the row number', async () => {
    await expect(read(['a,b\n1,x"y\n'])).rejects.toThrow(/Row 2 .*double quote inside a value/);
    await expect(read(['a,b\n1,"x"y\n'])).rejects.toThrow(/Row 2 .*after a closing double quote/);
    await expect(read(['a,b\n1,2\n3,"never closed\n'])).rejects.toThrow(/Row 3 .*never closed/);
  });
});

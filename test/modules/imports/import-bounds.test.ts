import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { COLUMNS, ImportKind } from '../../../src/modules/imports/import-columns';
import { DEFAULT_IMPORT_LIMITS } from '../../../src/modules/imports/import-limits';
import { createDepartment, createRegions } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';
import { repeatedDeflate, rowXml, sheetHead, sheetTail, workbookParts, zipOf, deflated } from '../../support/xlsx-parts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const GB = 1024 * 1024 * 1024;
const HEADER = COLUMNS[ImportKind.DIRECTORIES].map((c) => c.label);
const A = '11410505000000007J';

/**
 * Imports read in bounded memory (issue 11, finding 8): zip bombs, huge
 * cells and files past the row, column and cell caps are refused early with
 * 413, over real HTTP; the worst files the limits allow are read in a child
 * process whose peak RSS is measured.
 */
describe('import limits', () => {
  let api: TestServer;

  beforeAll(async () => {
    // Every default cap but the rows', which is checked the same way at 100,000 (import-memory.ts reads that many).
    api = await startTestServer({ importLimits: { ...DEFAULT_IMPORT_LIMITS, maxRows: 2000 } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  const upload = async (body: Buffer, contentType: string) => {
    const send = () => http(api, '/imports/directories?dryRun=true', { method: 'POST', body, contentType });
    // Building a file can take longer than the server keeps an idle connection (5 s); fetch may pick one it is closing.
    const response = await send().catch(send);
    return { status: response.status, error: response.json().error as { code: string; message: string } };
  };
  const sheetBomb = (declaredSize: number) =>
    zipOf(
      workbookParts({
        name: 'sheet',
        data: repeatedDeflate(`${sheetHead}${rowXml(1, HEADER)}`, '<row><c><v>1</v></c></row>', (3 * GB) / 26, sheetTail),
        declaredSize,
      }),
    );

  it('refuses a zip bomb that declares its 3 GB at once, from the table of contents', async () => {
    const bomb = sheetBomb(3 * GB);
    expect(bomb.length).toBeLessThan(10 * 1024 * 1024);
    expect(await upload(bomb, XLSX)).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/inflates to 3072 MB; an upload may inflate to at most 100 MB/) },
    });
  });

  it('refuses a zip bomb that lies about its size as soon as it inflates past what it declared', async () => {
    expect(await upload(sheetBomb(64 * 1024), XLSX)).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/declares 65536 bytes but inflates to more/) },
    });
  });

  it('refuses one cell of 200 MB, in shared strings or in the sheet, before any parser holds it', async () => {
    const cell = (head: string, tail: string) => repeatedDeflate(head, 'A', 200 * 1024 * 1024, tail);
    const inSheet = zipOf(
      workbookParts({
        name: 'sheet',
        data: cell(`${sheetHead}<row r="1"><c t="inlineStr"><is><t>`, `</t></is></c></row>${sheetTail}`),
        declaredSize: 1024 * 1024,
      }),
    );
    const shared = { name: 'xl/sharedStrings.xml', data: cell('<sst><si><t>', '</t></si></sst>'), declaredSize: 50 * 1024 * 1024 };
    const inStrings = zipOf(workbookParts(deflated('sheet', `${sheetHead}<row r="1"><c t="s"><v>0</v></c></row>${sheetTail}`), shared));
    for (const file of [inSheet, inStrings]) {
      expect(await upload(file, XLSX)).toEqual({
        status: 413,
        error: { code: 'PAYLOAD_TOO_LARGE', message: 'The XLSX file has a cell longer than 32767 characters, the most a cell may hold.' },
      });
    }
  });

  it('refuses files with more rows, columns or longer cells than the caps, naming the cap', async () => {
    const row = (i: number) => [A, `MZ-${i}`, `目录${i}`, ...HEADER.slice(3).map(() => '')];
    const manyRows = zipOf(
      workbookParts(
        deflated('sheet', `${sheetHead}${rowXml(1, HEADER)}${Array.from({ length: 2001 }, (_, i) => rowXml(i + 2, row(i).slice(0, 3))).join('')}${sheetTail}`),
      ),
    );
    expect(await upload(manyRows, XLSX)).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'The file has more than 2000 rows; import at most 2000 at a time.' },
    });
    const csvRows = Buffer.from([HEADER.join(','), ...Array.from({ length: 2001 }, (_, i) => row(i).join(','))].join('\n'));
    expect((await upload(csvRows, 'text/csv')).error.message).toBe('The file has more than 2000 rows; import at most 2000 at a time.');
    const wide = Buffer.from(`${HEADER.join(',')}\n${row(1).join(',')}${','.repeat(80)}\n`);
    expect(await upload(wide, 'text/csv')).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'Row 2 has 94 cells; a file may have at most 64 columns.' },
    });
    const wideXlsx = zipOf(
      workbookParts(deflated('sheet', `${sheetHead}${rowXml(1, HEADER)}<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>${sheetTail}`)),
    );
    expect(await upload(wideXlsx, XLSX)).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'Row 2 has 16384 cells; a file may have at most 64 columns.' },
    });
    const longCell = Buffer.from(`${HEADER.join(',')}\n${[A, 'MZ-1', '长'.repeat(40_000)].join(',')}\n`);
    expect(await upload(longCell, 'text/csv')).toEqual({
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'Row 2, column C holds 40000 characters; a cell may hold at most 32767.' },
    });
    const longLine = Buffer.from(`${HEADER.join(',')}\n${'x'.repeat(3_000_000)}\n`);
    expect((await upload(longLine, 'text/csv')).status).toBe(413);
  });

  it('refuses the bombs with a peak RSS under 600 MB, measured in a child process (the largest allowed files: `npm run bench:imports`)', async () => {
    const script = resolve(__dirname, 'import-memory.ts');
    const child = spawn(process.execPath, ['--expose-gc', require.resolve('ts-node/dist/bin.js'), '--swc', script, '--bombs-only'], {
      cwd: resolve(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { case?: string; outcome?: string; peakRssMB?: number; processPeakRssMB?: number });
    // The figures, for docs/security.md.
    process.stdout.write(`import memory:\n${output}`);
    expect(lines.filter((l) => l.case?.includes('bomb') || l.case?.includes('cell')).every((l) => l.outcome?.startsWith('refused'))).toBe(true);
    expect(lines.filter((l) => l.case).length).toBe(3);
    for (const line of lines.slice(0, -1)) expect(line.peakRssMB).toBeLessThan(600);
    expect(lines.at(-1)!.processPeakRssMB).toBeLessThan(600);
  });
});

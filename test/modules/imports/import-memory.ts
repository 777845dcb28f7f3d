/**
 * `npm run bench:imports`: reads the worst files the import limits allow
 * (minutes on a busy machine), and zip bombs that they must refuse, and
 * prints one JSON line per case and the process's peak RSS.
 * import-bounds.test.ts runs it with `--bombs-only` in a child process.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { COLUMNS, ImportKind } from '../../../src/modules/imports/import-columns';
import { DEFAULT_IMPORT_LIMITS } from '../../../src/modules/imports/import-limits';
import { readSheet } from '../../../src/modules/imports/spreadsheet';
import { deflatePieces, repeatedDeflate, sheetHead, sheetTail, workbookParts, zipOf } from '../../support/xlsx-parts';

const columns = COLUMNS[ImportKind.DIRECTORIES];
const GB = 1024 * 1024 * 1024;

/** 100,000 rows of ten distinct 37-character texts: shared strings and sheet together just under the 100 MB cap. */
function largestXlsx(): Buffer {
  const rows = DEFAULT_IMPORT_LIMITS.maxRows;
  const width = 10;
  const text = (i: number) => `${String(i).padStart(10, '0')}-directory-information-item`;
  const strings = deflatePieces(
    (function* () {
      yield `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${columns.map((c) => `<si><t>${c.label}</t></si>`).join('')}`;
      // Header labels are strings 0 to 13; the data's start after them.
      for (let r = 0; r < rows; r += 1000) {
        let piece = '';
        for (let i = r * width; i < (r + 1000) * width; i++) piece += `<si><t>${text(i)}</t></si>`;
        yield piece;
      }
      yield '</sst>';
    })(),
  );
  const sheet = deflatePieces(
    (function* () {
      yield `${sheetHead}<row r="1">${columns.map((_, c) => `<c r="${String.fromCharCode(65 + c)}1" t="s"><v>${c}</v></c>`).join('')}</row>`;
      for (let r = 0; r < rows; r += 1000) {
        let piece = '';
        for (let row = r; row < r + 1000; row++) {
          piece += `<row r="${row + 2}">`;
          for (let c = 0; c < width; c++) piece += `<c r="${String.fromCharCode(65 + c)}${row + 2}" t="s"><v>${columns.length + row * width + c}</v></c>`;
          piece += '</row>';
        }
        yield piece;
      }
      yield sheetTail;
    })(),
  );
  process.stderr.write(`largest xlsx: ${Math.round((strings.size + sheet.size) / 1024 / 1024)} MB inflated\n`);
  return zipOf(
    workbookParts(
      { name: 'sheet', data: sheet.data, declaredSize: sheet.size },
      { name: 'xl/sharedStrings.xml', data: strings.data, declaredSize: strings.size },
    ),
  );
}

/** A CSV as large as an upload may be (60 MB), at the row cap. */
function largestCsv(): Buffer {
  const line = (i: number) => columns.map((_, c) => `${i}-${c}-${'数'.repeat(12)}`).join(',');
  const pieces = [Buffer.from(columns.map((c) => c.label).join(','), 'utf8')];
  for (let i = 0; i < DEFAULT_IMPORT_LIMITS.maxRows; i += 1000) {
    let piece = '';
    for (let j = i; j < i + 1000; j++) piece += `\n${line(j)}`;
    pieces.push(Buffer.from(piece, 'utf8'));
  }
  return Buffer.concat(pieces);
}

const cases: [string, () => Buffer, 'csv' | 'xlsx'][] = [
  [
    'zip bomb, declared 3 GB',
    () =>
      zipOf(workbookParts({ name: 'sheet', data: repeatedDeflate(sheetHead, '<row><c><v>1</v></c></row>', (3 * GB) / 26, sheetTail), declaredSize: 3 * GB })),
    'xlsx',
  ],
  [
    'zip bomb, 3 GB declared as 90 MB',
    () =>
      zipOf(
        workbookParts({
          name: 'sheet',
          data: repeatedDeflate(sheetHead, '<row><c><v>1</v></c></row>', (3 * GB) / 26, sheetTail),
          declaredSize: 90 * 1024 * 1024,
        }),
      ),
    'xlsx',
  ],
  [
    'one 200 MB cell declared as 1 MB',
    () =>
      zipOf(
        workbookParts({
          name: 'sheet',
          data: repeatedDeflate(`${sheetHead}<row r="1"><c t="inlineStr"><is><t>`, 'A', 200 * 1024 * 1024, `</t></is></c></row>${sheetTail}`),
          declaredSize: 1024 * 1024,
        }),
      ),
    'xlsx',
  ],
  ['largest xlsx the limits allow', largestXlsx, 'xlsx'],
  ['largest csv the limits allow', largestCsv, 'csv'],
];

async function main(): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const bombsOnly = process.argv.includes('--bombs-only');
  for (const [name, make, format] of cases) {
    if (bombsOnly && name.startsWith('largest')) continue;
    let body: Buffer | undefined = make();
    const bytes = body.length;
    if (global.gc) global.gc();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    delay.reset();
    delay.enable();
    const started = Date.now();
    let outcome: string;
    try {
      const sheet = await readSheet(body, format, columns);
      outcome = `read ${sheet.rows.length} rows`;
    } catch (error) {
      outcome = `refused: ${(error as Error).message}`;
    }
    delay.disable();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    body = undefined;
    const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
    const line = {
      case: name,
      uploadMB: +(bytes / 1024 / 1024).toFixed(1),
      ms: Date.now() - started,
      maxEventLoopDelayMs: Math.round(delay.max / 1e6),
      rssBeforeMB: mb(before),
      peakRssMB: mb(peak),
      outcome,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (global.gc) global.gc();
  }
  // The whole process, generating the files included.
  process.stdout.write(`${JSON.stringify({ processPeakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}

void main();

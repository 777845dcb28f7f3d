import { constants, deflateRawSync } from 'node:zlib';

/** One file of a hand-built zip: its name, deflated bytes, and the sizes its headers declare. */
export interface ZipPart {
  name: string;
  data: Buffer;
  /** What the headers say the part inflates to (a zip bomb may lie). */
  declaredSize: number;
}

/** A part deflated from text as it is, declaring its true size. */
export const deflated = (name: string, text: string): ZipPart => {
  const raw = Buffer.from(text, 'utf8');
  return { name, data: deflateRawSync(raw), declaredSize: raw.length };
};

/**
 * Deflated bytes of `head`, then `unit` repeated `times`, then `tail`,
 * without ever holding the inflated text: each unit is compressed once,
 * ending in a full flush (which resets the compressor, so the copies are
 * independent), and repeated as compressed bytes. A few MB of this inflate
 * to gigabytes.
 */
export function repeatedDeflate(head: string, unit: string, times: number, tail: string): Buffer {
  const flush = { finishFlush: constants.Z_FULL_FLUSH };
  const unitData = deflateRawSync(Buffer.from(unit.repeat(Math.ceil((1024 * 1024) / unit.length)), 'utf8'), flush);
  const copies = Math.ceil(times / Math.ceil((1024 * 1024) / unit.length));
  return Buffer.concat([
    deflateRawSync(Buffer.from(head, 'utf8'), flush),
    ...Array.from({ length: copies }, () => unitData),
    deflateRawSync(Buffer.from(tail, 'utf8')),
  ]);
}

/** A zip archive of deflated parts; CRCs are left 0 (Mulu refuses these files before any CRC is read). */
export function zipOf(parts: ZipPart[]): Buffer {
  const out: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const name = Buffer.from(part.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(part.data.length, 18);
    local.writeUInt32LE(Math.min(part.declaredSize, 0xfffffffe), 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(part.data.length, 20);
    header.writeUInt32LE(Math.min(part.declaredSize, 0xfffffffe), 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(offset, 42);
    out.push(local, name, part.data);
    central.push(header, name);
    offset += 30 + name.length + part.data.length;
  }
  const size = central.reduce((sum, b) => sum + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(parts.length, 8);
  end.writeUInt16LE(parts.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...out, ...central, end]);
}

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** The parts every workbook needs around its first sheet (and shared strings, if given). */
export function workbookParts(sheet: ZipPart, sharedStrings?: ZipPart): ZipPart[] {
  return [
    deflated('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
    deflated(
      'xl/workbook.xml',
      `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${MAIN}" xmlns:r="${RELS}"><sheets><sheet name="资源目录" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ),
    deflated(
      'xl/_rels/workbook.xml.rels',
      `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
    ),
    ...(sharedStrings ? [sharedStrings] : []),
    { ...sheet, name: 'xl/worksheets/sheet1.xml' },
  ];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The XML of one row of inline-string cells. */
export const rowXml = (row: number, values: string[]) =>
  `<row r="${row}">${values.map((v, i) => `<c r="${columnName(i)}${row}" t="inlineStr"><is><t>${escape(v)}</t></is></c>`).join('')}</row>`;

export const sheetHead = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>`;
export const sheetTail = '</sheetData></worksheet>';

function columnName(index: number): string {
  let letters = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  return letters;
}

/** Deflated bytes of text made piece by piece (each piece flushed on its own), never holding the whole text. */
export function deflatePieces(pieces: Iterable<string>): { data: Buffer; size: number } {
  const out: Buffer[] = [];
  let size = 0;
  for (const piece of pieces) {
    const raw = Buffer.from(piece, 'utf8');
    size += raw.length;
    out.push(deflateRawSync(raw, { finishFlush: constants.Z_FULL_FLUSH }));
  }
  out.push(deflateRawSync(Buffer.alloc(0)));
  return { data: Buffer.concat(out), size };
}

import { DEFAULT_XLSX_LIMITS } from '../../core/xlsx-archive';

/**
 * How much one import may hold. Every cap is checked while the file is
 * read, so a file over one is refused as soon as it shows it, not after it
 * has been read whole; together they keep an import's memory bounded
 * whatever the upload (docs/security.md, "Limits").
 */
export interface ImportLimits {
  /** Data rows (after the header). */
  maxRows: number;
  /** Columns a row may reach. */
  maxColumns: number;
  /** Characters in one cell: Excel's own limit. */
  maxCellChars: number;
  /** Bytes the parts of an XLSX workbook that are read (its first sheet, shared strings, styles) may inflate to. */
  maxUncompressedBytes: number;
}

/**
 * 100,000 rows of ten distinct 37-character texts inflate to about 90 MB of
 * sheet XML and shared strings, and take a reader about 300 MB at their
 * peak (docs/security.md, "Import memory"): 100 MB keeps the worst file the
 * caps allow well below the server's 600 MB. Workbooks as stewards fill
 * them repeat most values (a department's credit code, a category), and
 * inflate to far less.
 */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = { maxRows: 100_000, maxColumns: 64, ...DEFAULT_XLSX_LIMITS };

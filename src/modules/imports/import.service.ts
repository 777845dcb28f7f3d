import { createHash } from 'node:crypto';
import { declaredCharset } from '../../core/charset';
import { badInput, forbidden } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { requireViewer } from '../../core/permissions';
import { Role, type Viewer } from '../../core/viewer';
import { toCsv, toXlsx, CONTENT_TYPES, type ExportFile } from '../reports/export.service';
import { importDirectories } from './directory-import';
import { COLUMNS, IMPORT_KINDS, ImportKind } from './import-columns';
import { insertAuditEntries, RowErrors, summarize, type ImportReport } from './import-report';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './import-limits';
import { detectFormat, readSheet, type SheetFormat } from './spreadsheet';
import { importSupervisionItems } from './supervision-import';
import { liftStatementTimeout } from '../../db/statement-timeout';

export interface ImportInput {
  kind: ImportKind;
  body: Buffer;
  /** The upload's content type, to tell CSV from XLSX with the file's own signature, and a CSV file's charset. */
  contentType?: string;
  /** Report what would happen, row by row, and write nothing. */
  dryRun: boolean;
  /** Shown in the audit trail. */
  fileName?: string;
  /** Caps on what the file may hold (import-limits.ts); the defaults when absent. */
  limits?: ImportLimits;
}

export function requireKind(value: string): ImportKind {
  if (!(IMPORT_KINDS as readonly string[]).includes(value)) throw badInput(`There is no import of "${value}"; use one of ${IMPORT_KINDS.join(', ')}.`);
  return value as ImportKind;
}

const ACTION: Record<ImportKind, string> = { [ImportKind.DIRECTORIES]: 'importDirectories', [ImportKind.SUPERVISION_ITEMS]: 'importSupervisionItems' };

/**
 * Bulk import (批量导入) of the spreadsheets departments keep: directories
 * with their information items, and supervision main items with their
 * sub-items (docs/api.md, "Bulk import"). Rows are checked with the services' own
 * rules; a dry run reports what each row would do; a real run writes all of
 * the file or, if any row has an error, nothing. Idempotent by code: a file
 * imported twice changes nothing the second time. Set-based statements in
 * one transaction, so 50,000 rows take seconds.
 */
export const importService = {
  /** Stewards and admins import; viewers are refused before the file is read. */
  requireImporter(ctx: RequestContext): Viewer {
    const viewer = requireViewer(ctx);
    if (viewer.role === Role.VIEWER) throw forbidden('Your role is read-only; you cannot import.');
    return viewer;
  },

  /**
   * Reads a directories or supervision-items file (CSV or XLSX) and applies
   * its rows in one transaction, or only reports what each would do
   * (`dryRun`); any bad row: every error reported, nothing written.
   */
  async run(ctx: RequestContext, input: ImportInput): Promise<ImportReport> {
    const started = Date.now();
    const viewer = this.requireImporter(ctx);
    const columns = COLUMNS[input.kind];
    const format = detectFormat(input.body, input.contentType);
    const charset = format === 'csv' ? declaredCharset(input.contentType) : 'utf-8';
    const { rows, rowErrors } = await readSheet(input.body, format, columns, input.limits ?? DEFAULT_IMPORT_LIMITS, charset);
    const errors = new RowErrors(columns);
    // Rows that do not fit the header are errors of their own; the others are still checked, so the report is complete.
    for (const { row, reason } of rowErrors) errors.add(row, null, reason);
    const run = input.kind === ImportKind.DIRECTORIES ? importDirectories : importSupervisionItems;
    const report = await ctx.em.transactional(async (em) => {
      // An import of 100,000 rows is a job, not a request.
      await liftStatementTimeout(em);
      const { results, audit } = await run(ctx, em, viewer, rows, input.dryRun, errors);
      const report = summarize(input.kind, input.dryRun, rows.length + rowErrors.length, results, errors.list);
      if (input.dryRun || errors.list.length) return report;
      await insertAuditEntries(em, viewer, ACTION[input.kind], audit);
      // One summarizing entry: who imported which file, and what it did.
      const digest = createHash('sha256').update(input.body).digest('hex');
      await insertAuditEntries(em, viewer, ACTION[input.kind], [
        {
          entityType: 'Import',
          entityId: `${input.kind}:${digest.slice(0, 16)}`,
          before: null,
          after: {
            kind: input.kind,
            fileName: input.fileName ?? null,
            sha256: digest,
            rows: report.rows,
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
          },
        },
      ]);
      return { ...report, applied: true };
    });
    return { ...report, elapsedMs: Date.now() - started };
  },

  /** A template to fill in: the header row (Chinese labels) and one example row. */
  async template(kind: ImportKind, format: SheetFormat): Promise<ExportFile> {
    const columns = COLUMNS[kind];
    const header = columns.map((c) => c.label);
    const example = [columns.map((c) => c.example)];
    const body =
      format === 'csv' ? toCsv(header, example) : await toXlsx(kind === ImportKind.DIRECTORIES ? '资源目录' : '监管事项', header, example, undefined, true);
    return { fileName: `mulu-${kind}-template.${format}`, contentType: CONTENT_TYPES[format], body };
  },
};

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { requireFormat } from '../modules/reports/export.service';
import { importService, requireKind } from '../modules/imports/import.service';
import type { RequestContext } from '../core/request-context';
import { args, required, runCommand, UsageError } from './cli-support';

export const USAGE = `Usage: npm run import -- --kind directories|supervision-items --file FILE.csv|FILE.xlsx [--dry-run] [--report REPORT.json]
       npm run import -- --kind directories|supervision-items --template FILE.csv|FILE.xlsx

Imports a directories or supervision-items file (columns: docs/api.md, "Bulk
import"), acting as the system (an administrator). --dry-run reports what
each row would do and writes nothing. Any bad row: every error is printed,
nothing is written, exit code 1. --template writes a template to fill in.`;

/** The command without its process: returns the lines to print and whether it failed. */
export async function importCommand(ctx: RequestContext, argv: string[]): Promise<{ lines: string[]; failed: boolean }> {
  const options = args(argv, { values: ['kind', 'file', 'report', 'template'], flags: ['dry-run'] });
  const kind = requireKind(required(options, 'kind'));
  if (typeof options.template === 'string') {
    const format = requireFormat(options.template.split('.').pop() ?? '');
    writeFileSync(options.template, (await importService.template(kind, format)).body);
    return { lines: [`Wrote ${options.template}.`], failed: false };
  }
  const file = required(options, 'file');
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const report = await importService.run(ctx, { kind, body, dryRun: options['dry-run'] === true, fileName: basename(file) });
  if (typeof options.report === 'string') writeFileSync(options.report, JSON.stringify(report, null, 2));
  const lines = report.errors.map((error) => `row ${error.row}${error.column ? `, ${error.column}` : ''}: ${error.reason}`);
  const verb = report.applied ? 'Imported' : report.dryRun ? 'Dry run' : 'Nothing written';
  lines.push(
    `${verb}: ${report.rows} rows; created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}; ${report.errors.length} error(s); ${report.elapsedMs} ms.`,
  );
  return { lines, failed: report.errors.length > 0 };
}

if (require.main === module) {
  void runCommand(USAGE, async (ctx) => {
    const { lines, failed } = await importCommand(ctx, process.argv.slice(2));
    (failed ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
    if (failed) process.exitCode = 1;
  });
}

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { requireFormat } from '../modules/reports/export.service';
import { importService, requireKind } from '../modules/imports/import.service';
import { args, required, runCommand, UsageError } from './cli-support';

const USAGE = `Usage: npm run import -- --kind directories|supervision-items --file FILE.csv|FILE.xlsx [--dry-run] [--report REPORT.json]
       npm run import -- --kind directories|supervision-items --template FILE.csv|FILE.xlsx

Imports a directories or supervision-items file (columns: README, "Bulk
import"), acting as the system (an administrator). --dry-run reports what
each row would do and writes nothing. Any bad row: every error is printed,
nothing is written, exit code 1. --template writes a template to fill in.`;

void runCommand(USAGE, async (ctx) => {
  const options = args(process.argv.slice(2), { values: ['kind', 'file', 'report', 'template'], flags: ['dry-run'] });
  const kind = requireKind(required(options, 'kind'));
  if (typeof options.template === 'string') {
    const format = requireFormat(options.template.split('.').pop() ?? '');
    writeFileSync(options.template, (await importService.template(kind, format)).body);
    console.log(`Wrote ${options.template}.`);
    return;
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
  for (const error of report.errors) console.error(`row ${error.row}${error.column ? `, ${error.column}` : ''}: ${error.reason}`);
  const verb = report.applied ? 'Imported' : report.dryRun ? 'Dry run' : 'Nothing written';
  console.log(`${verb}: ${report.rows} rows; created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}; ${report.errors.length} error(s); ${report.elapsedMs} ms.`);
  if (report.errors.length) process.exitCode = 1;
});

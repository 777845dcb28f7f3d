import { writeFileSync } from 'node:fs';
import { exportService, requireFormat, requireTable } from '../modules/reports/export.service';
import type { RequestContext } from '../core/request-context';
import { args, required, runCommand } from './cli-support';

export const USAGE = `Usage: npm run export -- --region 410505 --period 2023-06 --table resources|supervision [--format csv|xlsx] [--out FILE]

Writes an appendix table of the monthly report (resources = appendix 4,
supervision = appendix 5) for a region and month, as the report prints it.
The month's snapshot is used; the current month without one uses the live
figures. --period live: the live figures, even when the current month has a
snapshot. Default format xlsx; default file {region}-{period}-{table}.{format}.`;

/** The command without its process: parses `argv`, writes the file, returns what to print. */
export async function exportCommand(ctx: RequestContext, argv: string[]): Promise<string> {
  const options = args(argv, { values: ['region', 'period', 'table', 'format', 'out'], flags: [] });
  const format = requireFormat(typeof options.format === 'string' ? options.format : 'xlsx');
  const file = await exportService.file(ctx, required(options, 'region'), required(options, 'period'), requireTable(required(options, 'table')), format);
  const path = typeof options.out === 'string' ? options.out : file.fileName;
  writeFileSync(path, file.body);
  return `Wrote ${path} (${file.body.length} bytes).`;
}

if (require.main === module) void runCommand(USAGE, async (ctx) => void process.stdout.write(`${await exportCommand(ctx, process.argv.slice(2))}\n`));

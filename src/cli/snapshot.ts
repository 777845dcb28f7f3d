import { snapshotService } from '../modules/reports/snapshot.service';
import type { RequestContext } from '../core/request-context';
import { args, required, runCommand } from './cli-support';

export const USAGE = `Usage: npm run snapshot -- --period YYYY-MM [--replace]

Captures every department's and region's figures for the month (as the
captureSnapshot mutation does, acting as the system). A month is captured
once; --replace captures it again, audited. For cron, e.g. on the 1st:
  0 1 1 * * cd /srv/mulu && DATABASE_URL=... npm run snapshot -- --period $(date -d 'last month' +\\%Y-\\%m)`;

/** The command without its process: parses `argv`, captures, returns what to print. */
export async function snapshotCommand(ctx: RequestContext, argv: string[]): Promise<string> {
  const options = args(argv, { values: ['period'], flags: ['replace'] });
  const snapshot = await snapshotService.capture(ctx, { period: required(options, 'period'), replace: options.replace === true });
  return (
    `Captured ${snapshot.period}: ${snapshot.departmentCount} departments, ${snapshot.regionCount} regions` +
    (snapshot.replacements ? ` (replacement ${snapshot.replacements})` : '') +
    '.'
  );
}

if (require.main === module) void runCommand(USAGE, async (ctx) => void process.stdout.write(`${await snapshotCommand(ctx, process.argv.slice(2))}\n`));

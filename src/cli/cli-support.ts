import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded-postgres';
import { initOrm } from '../db/orm';
import { MuluError } from '../core/errors';
import { SYSTEM_VIEWER } from '../core/viewer';
import type { RequestContext } from '../core/request-context';
import { describeError, logger, sendLogsToStderr } from '../observability/logger';

/** `--name value` and `--flag` arguments; anything else is refused. */
export function parseArgs(argv: string[], known: { values: string[]; flags: string[] }): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unexpected argument "${arg}".`);
    const [, name, inline] = match;
    if (known.flags.includes(name)) out[name] = true;
    else if (known.values.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value.`);
      out[name] = value;
    } else throw new Error(`Unknown option --${name}.`);
  }
  return out;
}

/**
 * Runs a command against the database of DATABASE_URL, or, when it is unset,
 * the embedded database of `npm start` (MULU_DATA_DIR; the server must not be
 * running on it at the same time). The command acts as the system (an
 * administrator, "Mulu" in the audit trail). Exit code 0 on success, 1 on an
 * expected failure (its message printed), 2 on a usage error. `--help` (or
 * `-h`) prints the usage and exits 0, without a database.
 */
export async function runCommand(usage: string, command: (ctx: RequestContext) => Promise<void>, argv = process.argv.slice(2)): Promise<void> {
  // Asked for before any database is opened: the embedded one is held while `npm start` runs, and help needs none.
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  let embedded: EmbeddedDatabase | undefined;
  let orm: MikroORM | undefined;
  // stdout is the command's product (a report, an export): log lines go to stderr, warnings and worse only.
  sendLogsToStderr();
  logger.level = process.env.MULU_LOG_LEVEL ? logger.level : 'warn';
  try {
    const config = loadConfig();
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbeddedPostgres(config.embeddedDataDir, { supervise: false });
      url = embedded.url;
    }
    orm = await initOrm(url, { debug: config.logSql });
    await command({ em: orm.em.fork(), viewer: SYSTEM_VIEWER });
  } catch (error) {
    if (error instanceof MuluError) {
      process.stderr.write(`${error.code}: ${error.message}\n`);
      process.exitCode = 1;
    } else if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${usage}\n`);
      process.exitCode = 2;
    } else {
      logger.error({ err: error }, describeError(error));
      process.stderr.write(`${describeError(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await orm?.close(true);
    await embedded?.stop();
  }
}

export class UsageError extends Error {}

/** parseArgs, with its errors as usage errors. */
export function args(argv: string[], known: { values: string[]; flags: string[] }): Record<string, string | true> {
  try {
    return parseArgs(argv, known);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function required(options: Record<string, string | true>, name: string): string {
  const value = options[name];
  if (typeof value !== 'string') throw new UsageError(`--${name} is required.`);
  return value;
}

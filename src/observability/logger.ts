import pino, { type Logger } from 'pino';

/**
 * The one logger of the process: JSON lines on stdout (pino), one object per
 * event, errors with their stack under `err`. Clients never see a stack; the
 * log does. Silent under Jest unless MULU_LOG_LEVEL asks otherwise, so that a
 * test run prints test results, not request lines; `main` sets the level from
 * the validated configuration.
 */
let target: { write(line: string): unknown } = process.stdout;

/** Command-line tools whose stdout is their product (an export) log to stderr instead. */
export function sendLogsToStderr(): void {
  target = process.stderr;
}

/** Where log lines go from now on (tests read them); returns a function that restores the previous one. */
export function setLogDestination(destination: { write(line: string): unknown }): () => void {
  const previous = target;
  target = destination;
  return () => {
    target = previous;
  };
}

/**
 * MULU_LOG_LEVEL as this module is loaded, before the configuration is read: an unknown level is left to the
 * configuration to refuse, naming the variable (config.ts); pino would throw here, a stack trace and no line of ours.
 */
function levelAsked(): string | undefined {
  const asked = process.env.MULU_LOG_LEVEL?.toLowerCase();
  return asked && (asked === 'silent' || asked in pino.levels.values) ? asked : undefined;
}

export const logger: Logger = pino(
  {
    level: levelAsked() || (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    base: { service: 'mulu', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  // Written synchronously (stdout to a file or pipe is synchronous in Node), so a line logged before process.exit is never lost.
  { write: (line: string) => target.write(line) },
);

/** The text of anything thrown, for messages meant for a person (never "undefined"). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || error.name;
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  if (error === undefined || error === null) return 'an unknown error (nothing was thrown with it)';
  return typeof error === 'string' ? error : JSON.stringify(error);
}

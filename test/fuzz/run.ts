/**
 * `npm run fuzz -- --runs N [--seed S]`: a long run of the schema fuzz
 * (test/fuzz/schema-fuzz.ts) against a server on a PostgreSQL of its own.
 * Prints the figures, or the failing case with its seed; exits 1 on a failure.
 */
import 'reflect-metadata';
import { startTestServer } from '../support/test-server';
import { exploreFuzz, runFuzz } from './fuzz';

function argument(name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value)) throw new Error(`--${name} needs a whole number`);
  return value;
}

async function main(): Promise<void> {
  const runs = argument('runs') ?? 1000;
  const seed = argument('seed');
  const started = Date.now();
  // The server's own errors (logged, masked for clients) go to stderr; the figures to stdout.
  const api = await startTestServer({ ownCluster: true, figuresRecountIntervalMs: 24 * 60 * 60 * 1000 });
  let failed = false;
  try {
    if (process.argv.includes('--explore')) {
      // Every case runs, failures are grouped (no stop at the first): a survey of what is still broken.
      const problems = await exploreFuzz(api, { runs, seed: seed ?? Date.now() % 2147483647 });
      for (const [problem, count] of problems) process.stdout.write(`${count}x ${problem}\n`);
      return;
    }
    const report = await runFuzz(api, { runs, seed, log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(`${JSON.stringify({ ...report, failure: undefined, seconds: Math.round((Date.now() - started) / 1000) })}\n`);
    if (report.failure) {
      failed = true;
      process.stdout.write(`FAILURE:\n${report.failure}\n`);
    }
  } finally {
    await api.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(2);
});

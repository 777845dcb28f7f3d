import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { startOwnCluster } from '../support/own-cluster';

/** The parent process id of a running process, from /proc; undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? undefined : Number(parent);
  } catch {
    return undefined;
  }
}

/**
 * A test run killed with SIGKILL (a CI job's timeout, the OOM killer) runs
 * no teardown: its PostgreSQL (test/support/embedded-cluster.mjs) went on
 * running, reparented (to init), with its temporary folder, for good, and each
 * killed run added one. The next run's server stops it and removes its files.
 */
describe('a test run killed with SIGKILL', () => {
  it("leaves a PostgreSQL that the next run's start stops, its folder removed", async () => {
    // A run's server, in a process of its own (as own-cluster.ts starts one), killed without a word.
    const run = spawn(process.execPath, [join(__dirname, '../support/own-cluster-process.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: run.stdout }).once('line', (line) => resolve(JSON.parse(line).url));
      run.once('exit', (code) => reject(new Error(`the killed run's PostgreSQL did not start (exit ${code})`)));
    });
    const client = new Client({ connectionString: url });
    await client.connect();
    const dataDir = (await client.query<{ setting: string }>(`select setting from pg_settings where name = 'data_directory'`)).rows[0].setting;
    await client.end();
    const postgres = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const killed = new Promise((done) => run.once('exit', done));
    run.kill('SIGKILL');
    await killed;
    try {
      // Orphaned: its run is gone, the server still runs (reparented: to init, or to a subreaper where one is set).
      expect(parentOf(postgres)).not.toBeUndefined();
      expect(parentOf(postgres)).not.toBe(run.pid);

      const next = await startOwnCluster();
      await next.drop();
      expect(parentOf(postgres)).toBeUndefined();
      expect(existsSync(dirname(dataDir))).toBe(false);
    } finally {
      // Whatever happened above, this test leaves no server behind.
      if (parentOf(postgres) !== undefined) process.kill(postgres, 'SIGQUIT');
    }
  }, 120_000);
});

/**
 * `npm run bench:abuse`: the server's RSS through the abuse cases of issue 11, and a dashboard
 * reader's latency while they run. The server is the compiled one (dist/src/main.js) in a process
 * of its own, as `npm start` runs it: NODE_ENV=production, its embedded PostgreSQL in a fresh
 * folder with the demo dataset, MULU_WORKERS as in production (ABUSE_WORKERS sets it; `auto` is one
 * worker per core) and the production defaults of every limit but the rate limits (off, so that
 * every attack reaches the server; the per-caller slots are on, as in production). The attackers
 * and the reader run in another child process (abuse-client.mjs). The reader first runs alone
 * (ABUSE_BASELINE_SECONDS, 20), then with the attackers (ABUSE_SECONDS, 60, on ABUSE_ATTACKERS
 * connections, 4, and two slow senders).
 *
 * Memory is read from /proc for every process that serves (the primary and each worker): RSS at
 * the start, just before the attack, its peak during the attack (sampled every 20 ms, and VmHWM
 * reset as the attack starts) and after it; the target is per process. The longest event-loop
 * stall during the attack is prom-client's `nodejs_eventloop_lag_max_seconds` from /metrics
 * (reset by the read before the attack; the largest of the workers).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { demoStewardDepartment } from '../../src/db/demo-seed';
import { RegionPageQuery } from '../../src/web/queries';
import { resetPeakRss, rssMbByProcess } from '../bench/runner';
import { benchIdentities, startServer, stopServer } from '../bench/run';

const megabytes = (each: Map<number, number>, primary: number) =>
  Object.fromEntries([...each].map(([pid, mb]) => [pid === primary ? `primary ${pid}` : `worker ${pid}`, mb]));
const sum = (each: Map<number, number>) => [...each.values()].reduce((a, b) => a + b, 0);

async function eventLoopLagMaxMs(base: string): Promise<number | null> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m.exec(text);
  return match ? Math.round(Number(match[1]) * 1000) : null;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mulu-abuse-'));
  const identities = await benchIdentities();
  const workers = process.env.ABUSE_WORKERS ?? 'auto';
  const server = await startServer(undefined, identities.env, {
    MULU_DATA_DIR: dataDir,
    MULU_DEMO: '1',
    MULU_WORKERS: workers,
    MULU_SQL_COUNT_HEADER: '0',
    MULU_RATE_LIMIT_PER_MINUTE: '0',
    MULU_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '0',
    // The production defaults of the per-caller slots (src/http/caller-slots.ts).
    MULU_CALLER_CONCURRENCY: '',
    MULU_CALLER_QUEUE: '',
  });
  const primary = server.child.pid!;
  const base = server.url.replace(/\/graphql$/, '');
  try {
    const steward = demoStewardDepartment();
    const found = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: identities.authorization.write },
      body: JSON.stringify({ query: `{ department(creditCode: "${steward.creditCode}") { directories(first: 1) { edges { node { code } } } } }` }),
    }).then((response) => response.json() as Promise<{ data: { department: { directories: { edges: { node: { code: string } }[] } } } }>);
    const tokens = {
      viewer: await identities.signToken('attacker', { role: 'VIEWER' }),
      // The dashboard reader is another user, as on a real server: the attacker is one signed-in viewer.
      reader: await identities.signToken('dashboard-reader', { role: 'VIEWER' }),
      steward: await identities.signToken('steward', { role: 'STEWARD', department: steward.creditCode }),
      future: await identities.signToken('future', { role: 'VIEWER', name: 'From the future' }, Math.floor(Date.now() / 1000) + 86_400),
      directoryCode: found.data.department.directories.edges[0].node.code,
    };
    const dashboard = { query: print(RegionPageQuery), variables: { code: '410000', rows: 100 } };
    const atStart = rssMbByProcess(primary);
    let beforeAttack = atStart;
    let sampled = new Map<number, number>();
    let sampler: NodeJS.Timeout | undefined;
    const child = fork(join(__dirname, 'abuse-client.mjs'), [], {
      env: { ...process.env, ABUSE_URL: server.url, ABUSE_TOKENS: JSON.stringify(tokens), ABUSE_DASHBOARD: JSON.stringify(dashboard) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    // The client says when the reader's time alone ends and the attack starts.
    child.on('message', (message) => {
      if (message !== 'attack') return;
      beforeAttack = rssMbByProcess(primary);
      sampled = new Map(beforeAttack);
      resetPeakRss(primary);
      // Read once to reset it: the figure after the attack is the attack's.
      void eventLoopLagMaxMs(base);
      sampler = setInterval(() => {
        for (const [pid, mb] of rssMbByProcess(primary)) sampled.set(pid, Math.max(mb, sampled.get(pid) ?? 0));
      }, 20);
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('exit', resolve));
    clearInterval(sampler);
    const peak = new Map([...rssMbByProcess(primary, 'VmHWM')].map(([pid, mb]) => [pid, Math.max(mb, sampled.get(pid) ?? 0)]));
    const after = rssMbByProcess(primary);
    const lag = await eventLoopLagMaxMs(base);
    const result = JSON.parse(output.trim().split('\n').pop() ?? '{}');
    process.stdout.write(
      `${JSON.stringify(
        {
          ...result,
          workers,
          serverRssMB: {
            atStart: megabytes(atStart, primary),
            beforeAttack: megabytes(beforeAttack, primary),
            peakDuringAttack: megabytes(peak, primary),
            afterAttack: megabytes(after, primary),
            sum: { atStart: sum(atStart), beforeAttack: sum(beforeAttack), peakDuringAttack: sum(peak), afterAttack: sum(after) },
          },
          longestEventLoopStallMs: lag,
        },
        null,
        1,
      )}\n`,
    );
  } finally {
    await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

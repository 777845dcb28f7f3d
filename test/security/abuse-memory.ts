/**
 * `npm run bench:abuse`: the server's peak RSS through the abuse cases of issue 11, and a
 * dashboard reader's latency while they run. The server runs here, on a PostgreSQL of its own
 * with the demo dataset, with the production defaults of every limit but the per-caller rate
 * limits (off, so that every attack reaches the server; the per-caller slots are on, as in
 * production, so the attacker's connections run two at a time); the attackers and the reader run in a
 * child process (abuse-client.mjs), so this process's RSS is the server's. The reader first runs
 * alone (ABUSE_BASELINE_SECONDS, 20), for the machine's own latency, then with the attackers
 * (ABUSE_SECONDS, 60, on ABUSE_ATTACKERS connections, 4, and two slow senders).
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { print } from 'graphql';
import { loadDemoIfEmpty, demoStewardDepartment } from '../../src/db/demo-seed';
import { RegionPageQuery } from '../../src/web/queries';
import { SignJWT } from 'jose';
import { DEFAULT_CALLER_SLOTS } from '../../src/http/caller-slots';
import { startTestServer, TEST_AUDIENCE, TEST_ISSUER } from '../support/test-server';

async function main(): Promise<void> {
  const api = await startTestServer({ ownCluster: true, figuresRecountIntervalMs: 24 * 60 * 60 * 1000, callerSlots: DEFAULT_CALLER_SLOTS });
  try {
    await loadDemoIfEmpty(api.orm);
    const steward = demoStewardDepartment();
    const found = await api.ok<{ department: { directories: { edges: { node: { code: string } }[] } } }>(
      `{ department(creditCode: "${steward.creditCode}") { directories(first: 1) { edges { node { code } } } } }`,
    );
    const tokens = {
      viewer: await api.signToken({ role: 'VIEWER', sub: 'attacker' }, { expiresIn: '1h' }),
      // The dashboard reader is another user, as on a real server: the attacker is one signed-in viewer.
      reader: await api.signToken({ role: 'VIEWER', sub: 'dashboard-reader' }, { expiresIn: '1h' }),
      steward: await api.signToken({ role: 'STEWARD', department: steward.creditCode, sub: 'steward' }, { expiresIn: '1h' }),
      // signToken dates a token now; this one says it was issued a day from now.
      future: await new SignJWT({ role: 'VIEWER', name: 'From the future' })
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('future')
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setIssuedAt(Math.floor(Date.now() / 1000) + 86_400)
        .setExpirationTime('2d')
        .sign(api.privateKey),
      directoryCode: found.department.directories.edges[0].node.code,
    };
    const dashboard = { query: print(RegionPageQuery), variables: { code: '410000', rows: 100 } };
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    // Longest event-loop stall of the server.
    let stall = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last - 10);
      last = now;
    }, 10);
    const child = fork(join(__dirname, 'abuse-client.mjs'), [], {
      env: { ...process.env, ABUSE_URL: api.server.url, ABUSE_TOKENS: JSON.stringify(tokens), ABUSE_DASHBOARD: JSON.stringify(dashboard) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    await new Promise((resolve) => child.once('exit', resolve));
    clearInterval(sampler);
    clearInterval(ticker);
    const result = JSON.parse(output.trim().split('\n').pop() ?? '{}');
    process.stdout.write(
      `${JSON.stringify({ ...result, serverRssMB: { baseline: Math.round(baseline / 1048576), peak: Math.round(peak / 1048576) }, longestEventLoopStallMs: Math.round(stall) }, null, 1)}\n`,
    );
  } finally {
    await api.close();
  }
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

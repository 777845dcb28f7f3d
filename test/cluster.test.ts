import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { resolve } from 'node:path';
import { createTestDatabase } from './support/database';

/**
 * MULU_WORKERS=2 (src/cluster.ts), started as an operator starts it
 * (src/main.ts, NODE_ENV=production) against a database of its own: both
 * workers answer on one port, answers stay exact across the workers'
 * response caches, a killed worker is replaced while the other serves,
 * /metrics shows every process, SIGTERM stops everything with code 0, and a
 * worker that cannot start fails the start instead of restarting in a loop.
 */

const ADMIN_TOKEN = 'a-test-admin-token-0123456789';

interface Mulu {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startMulu(env: Record<string, string>): Mulu {
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--swc', resolve(__dirname, '../src/main.ts')], {
    env: { ...process.env, NODE_ENV: 'production', MULU_LOG_LEVEL: 'info', MULU_DEMO: '0', MULU_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function waitFor(what: string, condition: () => boolean, mulu: Mulu, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (mulu.child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not happen; Mulu's output:\n${mulu.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request on a connection of its own (`connection: close`), so the primary hands each to the next worker. */
async function post(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, connection: 'close' },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  return { status: response.status, worker: response.headers.get('x-mulu-worker'), cache: response.headers.get('x-mulu-response-cache'), body };
}

/** The Node processes the primary forked (DATABASE_URL is set: no embedded PostgreSQL among its children). */
function workerPids(primary: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const CHILDREN = `{ region(code: "410000") { name children { code name } } }`;
const CREATE_REGION = `mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`;

describe('several workers behind one port (MULU_WORKERS=2)', () => {
  it('serves from both, keeps answers exact across their caches, replaces a killed worker, shows every process in /metrics, and stops on SIGTERM with code 0', async () => {
    const database = await createTestDatabase();
    const mulu = startMulu({ DATABASE_URL: database.url, PORT: '0', MULU_WORKERS: '2' });
    try {
      await waitFor('the start', () => mulu.output().includes('Mulu is serving GraphQL at'), mulu, 90_000);
      expect(mulu.output()).toContain('with 2 workers');
      const url = /Mulu is serving GraphQL at (\S+) with/.exec(mulu.output())![1].replace('localhost', '127.0.0.1');
      const base = url.replace(/\/graphql$/, '');
      const workers = workerPids(mulu.child.pid!);
      expect(workers).toHaveLength(2);

      // Both workers hold the answer (a HIT from each), then a write through one connection...
      expect((await post(url, CREATE_REGION, { input: { code: '410000', name: '河南省' } })).body.errors).toBeUndefined();
      expect((await post(url, CREATE_REGION, { input: { code: '410500', name: '安阳市' } })).body.errors).toBeUndefined();
      const hits = new Set<string>();
      const seen = new Set<string>();
      for (let i = 0; i < 40 && hits.size < 2; i++) {
        const answer = await post(url, CHILDREN);
        expect(answer.body).toEqual({ data: { region: { name: '河南省', children: [{ code: '410500', name: '安阳市' }] } } });
        seen.add(answer.worker!);
        if (answer.cache === 'HIT') hits.add(answer.worker!);
      }
      expect([...seen].sort()).toEqual(['1', '2']);
      expect([...hits].sort()).toEqual(['1', '2']);
      const write = await post(url, CREATE_REGION, { input: { code: '410600', name: '鹤壁市' } });
      expect(write.body.errors).toBeUndefined();
      // ... and every read after it, whichever worker answers, sees it: no worker serves its stored answer.
      const after = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const answer = await post(url, CHILDREN);
        expect(answer.body).toEqual({
          data: {
            region: {
              name: '河南省',
              children: [
                { code: '410500', name: '安阳市' },
                { code: '410600', name: '鹤壁市' },
              ],
            },
          },
        });
        after.add(answer.worker!);
      }
      expect([...after].sort()).toEqual(['1', '2']);

      // One scrape shows every process: the primary (worker 0) and both workers, each labelled.
      const metrics = await (await fetch(`${base}/metrics`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(20_000) })).text();
      for (const worker of ['0', '1', '2']) expect(metrics).toMatch(new RegExp(`^process_resident_memory_bytes\\{worker="${worker}"\\} \\d+`, 'm'));
      for (const worker of ['1', '2']) expect(metrics).toMatch(new RegExp(`^mulu_requests_total\\{[^}]*status="200",worker="${worker}"\\} \\d+`, 'm'));

      // The worker running the periodic jobs killed: the primary starts another in its place, which takes
      // the jobs over, and the API answers meanwhile.
      const jobsPid = Number(/worker 1 \(pid (\d+)\) is serving, with the periodic jobs/.exec(mulu.output())![1]);
      expect(mulu.output()).toMatch(/worker 2 \(pid \d+\) is serving"/);
      expect(workers).toContain(jobsPid);
      process.kill(jobsPid, 'SIGKILL');
      // A connection the primary handed to the worker as it died may be lost (as with any replica killed); the next one is answered.
      const during = await post(url, CHILDREN).catch(() => post(url, CHILDREN));
      expect(during.status).toBe(200);
      await waitFor('the replacement', () => /worker 3 \(pid \d+\) is serving, in place of worker 1, with the periodic jobs/.test(mulu.output()), mulu);
      expect(mulu.output()).toMatch(
        /worker 1 \(pid \d+\) was killed by SIGKILL; started worker 3 in its place, with the periodic jobs \(restart 1 of at most 5 within 60 s\)/,
      );
      const answering = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const answer = await post(url, CHILDREN);
        expect(answer.status).toBe(200);
        answering.add(answer.worker!);
      }
      expect(answering).toContain('3');
      const ready = await fetch(`${base}/health/ready`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(20_000) });
      expect(ready.status).toBe(200);
      const current = workerPids(mulu.child.pid!);
      expect(current).toHaveLength(2);

      // SIGTERM: every worker drains and exits, then the primary, with code 0.
      mulu.child.kill('SIGTERM');
      const code = await Promise.race([mulu.exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 20_000).unref())]);
      if (code === 'hung') mulu.child.kill('SIGKILL');
      expect(code).toBe(0);
      expect(mulu.output()).toMatch(/"worker":0,.*"msg":"SIGTERM: stopping"/);
      expect(current.filter(alive)).toEqual([]);
    } finally {
      if (mulu.child.exitCode === null) mulu.child.kill('SIGKILL');
      await database.drop();
    }
  });

  it("fails the start, with the worker's reason, when a worker cannot start (the port is taken), instead of restarting it in a loop", async () => {
    const database = await createTestDatabase();
    const taken = net.createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const mulu = startMulu({ DATABASE_URL: database.url, PORT: String(port), MULU_WORKERS: '2' });
      const code = await Promise.race([mulu.exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 90_000).unref())]);
      if (code === 'hung') mulu.child.kill('SIGKILL');
      expect(code).toBe(1);
      expect(mulu.output()).toMatch(/Mulu failed to start: worker \d could not start: (bind|listen) EADDRINUSE.*127\.0\.0\.1:\d+/);
      expect(mulu.output()).not.toContain('in its place');
    } finally {
      taken.close();
      await database.drop();
    }
  });
});

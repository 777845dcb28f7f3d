import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { creditCode } from '../support/builders';

/**
 * Chaos, as an operator meets it (issue 12): the real entry point
 * (src/main.ts) with its embedded PostgreSQL in a folder of its own, under
 * write load from several clients, then the database killed, a SIGTERM, and
 * a crash of Node itself followed by a restart on the same folder. Each test
 * prints what it measured; every acknowledged write must be stored.
 */
const ADMIN_TOKEN = 'chaos-admin-token-0123456789abcdef';
const DEPARTMENT = creditCode('410505', 1);
const SUB_ITEM = 'CHAOS-S1';
const BATCH = 200;

interface Mulu {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

let folder: string;
let dataDir: string;
let current: Mulu | undefined;
/** Records acknowledged (accepted) by the server, over every scenario. */
let acknowledged = 0;
/**
 * Records of whole batches stored although their request failed (its
 * COMMIT went through, then the answer was lost): allowed, as for any
 * database client; half a batch is not.
 */
let storedUnacknowledged = 0;

/** How long one start of src/main.ts (through ts-node) may take on a loaded machine. */
const START_DEADLINE_MS = 90_000;
/** Reads must answer again this long after Mulu began restarting the killed postmaster (issue 12: 10 s). */
const RECOVERY_MS = 10_000;

async function startMulu(): Promise<Mulu> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    MULU_DATA_DIR: dataDir,
    PORT: '0',
    MULU_DEMO: '0',
    MULU_ADMIN_TOKEN: ADMIN_TOKEN,
    MULU_LOG_LEVEL: 'info',
    MULU_SHUTDOWN_GRACE_MS: '10000',
    // Six writers and a reader stand for several upstream systems, with one admin token between them.
    MULU_CALLER_CONCURRENCY: '0',
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--swc', resolve(__dirname, '../../src/main.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const match = /"url":"([^"]+)"[^\n]*Mulu is serving GraphQL/.exec(output);
    if (match) return { child, url: match[1], output: () => output, exited };
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`Mulu exited during its start (${child.exitCode ?? child.signalCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Mulu did not start within ${START_DEADLINE_MS / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Answer {
  status: number;
  body?: { data?: any; errors?: { extensions?: { code?: string } }[] };
  /** A network error (connection refused, reset) or a timeout, instead of an answer. */
  failure?: string;
  /** When the request had been written to its connection (ms since epoch). */
  sentAt?: number;
  /** When the answer (or the failure) came. */
  answeredAt?: number;
}

/** One request on a connection of its own (no keep-alive), so "in flight" has a clear meaning. */
function post(url: string, query: string, variables?: Record<string, unknown>, timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolveAnswer) => {
    const done = (answer: Answer) => resolveAnswer({ ...answer, answeredAt: Date.now() });
    const body = JSON.stringify({ query, variables });
    let sentAt: number | undefined;
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'cache-control': 'no-cache',
        },
        timeout: timeoutMs,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          try {
            done({ status: response.statusCode ?? 0, body: JSON.parse(text), sentAt });
          } catch {
            done({ status: response.statusCode ?? 0, failure: `not JSON: ${text.slice(0, 100)}`, sentAt });
          }
        });
        response.on('error', (error) => done({ status: 0, failure: error.message, sentAt }));
      },
    );
    request.on('finish', () => (sentAt = Date.now()));
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) => done({ status: 0, failure: (error as NodeJS.ErrnoException).code ?? error.message, sentAt }));
    request.end(body);
  });
}

const INGEST = `mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted } }`;
const ok = (answer: Answer) => answer.status === 200 && !answer.failure && !answer.body?.errors;

/** Writers pushing batches of records until stopped; each acknowledged batch is counted. */
function writeLoad(url: string, label: string, writers = 6) {
  let running = true;
  const answers: Answer[] = [];
  let sequence = 0;
  const loop = async (w: number) => {
    while (running) {
      const batch = sequence++;
      const records = Array.from({ length: BATCH }, (_, k) => ({
        subItemCode: SUB_ITEM,
        source: 'chaos',
        externalId: `${label}-${w}-${batch}-${k}`,
        occurredAt: '2023-06-15T08:00:00Z',
      }));
      const answer = await post(url, INGEST, { input: { departmentCreditCode: DEPARTMENT, records } });
      answers.push(answer);
      if (ok(answer)) acknowledged += answer.body!.data.ingestSupervisionRecords.accepted;
      else await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loops = Array.from({ length: writers }, (_, w) => loop(w));
  return {
    answers,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function storedRecords(url: string): Promise<number> {
  const answer = await post(url, `query($code: String!) { department(creditCode: $code) { supervisionStats { records } } }`, { code: DEPARTMENT });
  if (!ok(answer)) throw new Error(`could not read the records: ${JSON.stringify(answer)}`);
  return Number(answer.body!.data.department.supervisionStats.records);
}

/** When Mulu logged a line whose message contains `text` (ms since epoch), from its JSON log. */
function loggedAt(output: string, text: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes(text)) continue;
    try {
      return Date.parse((JSON.parse(line) as { time: string }).time);
    } catch {
      // not a log line
    }
  }
  return undefined;
}

function summary(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) {
    const key = answer.failure
      ? `network: ${answer.failure}`
      : ok(answer)
        ? 'ok'
        : `${answer.status} ${answer.body?.errors?.map((e) => e.extensions?.code).join(',')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join('; ');
}

async function stopWithSignal(mulu: Mulu, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  mulu.child.kill(signal);
  const code = await Promise.race([mulu.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref())]);
  if (code === 'hung') {
    mulu.child.kill('SIGKILL');
    throw new Error(`Mulu did not exit within 30 s of ${signal}`);
  }
  return { code, ms: Date.now() - started };
}

/**
 * Three starts of src/main.ts through ts-node: about 30 s on a quiet machine, each start bounded
 * (START_DEADLINE_MS) so that a loaded one fails with Mulu's output instead of hanging the suite.
 */
describe('chaos: the embedded database killed, SIGTERM and a crash, all under write load', () => {
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mulu-chaos-'));
    // The postgres user (when running as root) must reach the data folder.
    await chmod(folder, 0o755);
    dataDir = join(folder, 'data');
    current = await startMulu();
    const setup = [
      `mutation { a: createRegion(input: { code: "410000", name: "河南省" }) { code } b: createRegion(input: { code: "410500", name: "安阳市" }) { code } c: createRegion(input: { code: "410505", name: "殷都区" }) { code } }`,
      `mutation { createDepartment(input: { creditCode: "${DEPARTMENT}", name: "殷都区卫健委", regionCode: "410505" }) { id } }`,
      `mutation { createSupervisionMainItem(input: { departmentCreditCode: "${DEPARTMENT}", code: "CHAOS-M1", name: "监督检查", legalBasis: "《中华人民共和国行政处罚法》" }) { code } }`,
      `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${DEPARTMENT}", mainItemCode: "CHAOS-M1", code: "${SUB_ITEM}", name: "日常检查", category: INSPECTION }) { code } }`,
    ];
    for (const query of setup) {
      const answer = await post(current.url, query);
      if (!ok(answer)) throw new Error(`setup failed: ${JSON.stringify(answer)}`);
    }
  }, START_DEADLINE_MS + 30_000);

  afterAll(async () => {
    if (current && current.child.exitCode === null) current.child.kill('SIGKILL');
    // A server left by a killed run: stop it before removing its folder.
    const lock = join(dataDir, 'postmaster.pid');
    if (existsSync(lock)) {
      const pid = Number(readFileSync(lock, 'utf8').split('\n')[0]);
      try {
        process.kill(pid, 'SIGQUIT');
        await new Promise((r) => setTimeout(r, 1000));
      } catch {
        // gone
      }
    }
    await rm(folder, { recursive: true, force: true });
  });

  it('the postmaster killed under load: requests answer 503 meanwhile, reads work again within 10 s of its restart, no acknowledged write lost', async () => {
    const mulu = current!;
    const load = writeLoad(mulu.url, 'kill');
    await new Promise((r) => setTimeout(r, 1500));
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    // Reads until one succeeds once Mulu has seen the death and begun restarting PostgreSQL.
    let recoveredAt: number | undefined;
    const reads: Answer[] = [];
    while (Date.now() - killedAt < 20_000) {
      const answer = await post(mulu.url, `{ region(code: "410505") { name } }`);
      reads.push(answer);
      // Answered after Mulu began restarting PostgreSQL: the server reading is the new one, not the dying one.
      if (ok(answer) && mulu.output().includes('restarting the embedded PostgreSQL in')) {
        recoveredAt = Date.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    await load.stop();
    const stored = await storedRecords(mulu.url);
    const failures = [...reads, ...load.answers].filter((answer) => !ok(answer));
    const restartingAt = loggedAt(mulu.output(), 'restarting the embedded PostgreSQL in');
    const backAt = loggedAt(mulu.output(), 'the embedded PostgreSQL is back after');
    const since = (at: number | undefined, from: number | undefined) => (at !== undefined && from !== undefined ? `${at - from} ms` : 'never');
    console.log(
      `chaos, database killed: restart begun ${since(restartingAt, killedAt)} after the kill, PostgreSQL back ${since(backAt, killedAt)} after it, ` +
        `reads answered again ${since(recoveredAt, killedAt)} after it (${since(recoveredAt, restartingAt)} after the restart began); ` +
        `writes: ${summary(load.answers)}; reads: ${summary(reads)}; records acknowledged ${acknowledged}, stored ${stored}, lost ${Math.max(0, acknowledged - stored)}, ` +
        `stored although answered with an error ${Math.max(0, stored - acknowledged)}`,
    );
    expect(restartingAt).toBeDefined();
    expect(recoveredAt).toBeDefined();
    expect(recoveredAt! - restartingAt!).toBeLessThan(RECOVERY_MS);
    // Never a hang, never INTERNAL_SERVER_ERROR: every failed request said SERVICE_UNAVAILABLE with 503.
    for (const failure of failures) {
      expect(failure.failure).toBeUndefined();
      expect(failure.status).toBe(503);
      expect(failure.body?.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    }
    // Every acknowledged record is stored; a batch answered 503 is stored whole (its COMMIT went through) or not at all.
    expect(stored).toBeGreaterThanOrEqual(acknowledged);
    expect((stored - acknowledged) % BATCH).toBe(0);
    storedUnacknowledged = stored - acknowledged;
  }, 60_000);

  it('SIGTERM under load: every request in flight at the signal succeeds, then the process exits 0', async () => {
    const mulu = current!;
    const load = writeLoad(mulu.url, 'term', 8);
    await new Promise((r) => setTimeout(r, 1500));
    const signalAt = Date.now();
    const stopping = stopWithSignal(mulu, 'SIGTERM');
    const { code, ms } = await stopping;
    await load.stop();
    // In flight: written to its connection at least 100 ms before the signal (the server had read it), answered after it.
    const inFlight = load.answers.filter((answer) => answer.sentAt !== undefined && answer.sentAt < signalAt - 100 && answer.answeredAt! >= signalAt);
    const late = load.answers.filter((answer) => answer.sentAt === undefined || answer.sentAt >= signalAt - 100);
    console.log(
      `chaos, SIGTERM: exit code ${code} after ${ms} ms; in flight at the signal: ${inFlight.length} (${summary(inFlight)}); sent around or after it: ${summary(late)}`,
    );
    expect(code).toBe(0);
    expect(mulu.output()).toContain('SIGTERM: stopping');
    expect(inFlight.filter((answer) => !ok(answer))).toEqual([]);
    expect(inFlight.length).toBeGreaterThan(0);
    current = undefined;
  }, 60_000);

  it(
    'Node killed (kill -9) and started again on the same data folder: the leftover server is dealt with, nothing acknowledged is lost',
    async () => {
      const started = Date.now();
      let mulu = await startMulu();
      const restartMs = Date.now() - started;
      expect(await storedRecords(mulu.url)).toBe(acknowledged + storedUnacknowledged);
      const load = writeLoad(mulu.url, 'crash');
      await new Promise((r) => setTimeout(r, 1500));
      mulu.child.kill('SIGKILL');
      await mulu.exited;
      await load.stop();
      // Its PostgreSQL runs on, orphaned, holding the folder (finding 2: this used to print "failed to start: undefined").
      const orphan = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const again = Date.now();
      mulu = await startMulu();
      current = mulu;
      const afterCrashMs = Date.now() - again;
      const stored = await storedRecords(mulu.url);
      const output = mulu.output();
      const stopping = loggedAt(output, 'left running by an earlier run');
      const gone = loggedAt(output, "the earlier run's PostgreSQL has stopped");
      const accepting = loggedAt(output, 'accepts connections on');
      const serving = loggedAt(output, 'Mulu is serving GraphQL');
      const span = (to: number | undefined, from: number | undefined) => (to !== undefined && from !== undefined ? `${to - from} ms` : '?');
      console.log(
        `chaos, crash and restart: first start on the folder ${restartMs} ms, start after kill -9 of Node ${afterCrashMs} ms ` +
          `(leftover PostgreSQL ${orphan} stopped in ${span(gone, stopping)}, the new one accepting ${span(accepting, gone)} later, serving ${span(serving, accepting)} after that); ` +
          `writes: ${summary(load.answers)}; records acknowledged ${acknowledged}, stored ${stored}, lost ${Math.max(0, acknowledged - stored)}, ` +
          `stored although unacknowledged ${stored - acknowledged - storedUnacknowledged} (the batches cut off by the kill, whole)`,
      );
      expect(mulu.output()).toContain(`a PostgreSQL server left running by an earlier run (pid ${orphan})`);
      expect(mulu.output()).not.toContain('Mulu failed to start');
      // Acknowledged batches are all there; a batch cut off by the kill is either whole or absent.
      expect(stored).toBeGreaterThanOrEqual(acknowledged + storedUnacknowledged);
      expect((stored - acknowledged - storedUnacknowledged) % BATCH).toBe(0);
      const { code } = await stopWithSignal(mulu, 'SIGTERM');
      expect(code).toBe(0);
      current = undefined;
    },
    2 * START_DEADLINE_MS + 30_000,
  );
});

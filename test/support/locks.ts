import { Client } from 'pg';
import type { TestServer } from './test-server';

/** A connection of its own to the test server's database, outside the server's pool: to hold a transaction open. */
export async function openConnection(api: TestServer): Promise<Client & { pid: number }> {
  const client = new Client({ connectionString: api.orm.config.getClientUrl() });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return Object.assign(client, { pid: rows[0].pid });
}

/** Backends of this database waiting for a lock another backend holds (or is ahead of them in the queue for). */
export async function waitingBackends(observer: Client): Promise<number[]> {
  const { rows } = await observer.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = current_database() and cardinality(pg_blocking_pids(pid)) > 0`,
  );
  return rows.map((row) => row.pid);
}

/** Resolves with the waiting backends once at least `count` wait; fails after `timeoutMs`. */
export async function untilWaiting(observer: Client, count: number, timeoutMs = 30_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = await waitingBackends(observer);
    if (waiting.length >= count) return waiting;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} backend(s) were waiting for a lock after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Tells whether `work` (a request to the server) finished ('done') or ended
 * up waiting for a lock ('waits'), while a test holds a transaction open
 * elsewhere. Backends in `alreadyWaiting` are not counted. Deterministic
 * both ways: a statement waiting for a lock keeps waiting until the holder
 * ends, so the poll cannot miss it, and finished work is seen as finished.
 * When it waits, the caller ends the holder's transaction and then awaits
 * `work`.
 */
export async function finishesOrWaits(
  observer: Client,
  work: Promise<unknown>,
  alreadyWaiting: readonly number[] = [],
  timeoutMs = 60_000,
): Promise<'done' | 'waits'> {
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  const settled = work.then(
    () => (finished = true),
    () => (finished = true),
  );
  for (;;) {
    if (finished) return 'done';
    if ((await waitingBackends(observer)).some((pid) => !alreadyWaiting.includes(pid))) return 'waits';
    if (Date.now() > deadline) throw new Error(`the work neither finished nor waited for a lock within ${timeoutMs} ms`);
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 25))]);
  }
}

import { Client } from 'pg';
import type { TestServer } from './test-server';

/** A connection of its own to the test server's database, outside the server's pool: to hold a transaction open. */
export async function openConnection(api: TestServer): Promise<Client & { pid: number }> {
  const client = new Client({ connectionString: api.orm.config.getClientUrl() });
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return Object.assign(client, { pid: rows[0].pid });
}

/** Backends of this database waiting for a lock that `pid` holds (or is ahead of them in the queue for). */
export async function waitingOn(observer: Client, pid: number): Promise<number[]> {
  const { rows } = await observer.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and $1::int = any(pg_blocking_pids(pid))`, [pid]);
  return rows.map((row) => row.pid);
}

/** Resolves once at least `count` backends wait on `pid`; rejects after `timeoutMs`. */
export async function untilWaitingOn(observer: Client, pid: number, count = 1, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await waitingOn(observer, pid)).length < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} backend(s) started waiting on backend ${pid} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Runs `work` while `holder` keeps its transaction open, and tells whether
 * the work finished ('done') or ended up waiting for one of the holder's
 * locks ('blocked'). Deterministic both ways: a blocked statement stays
 * blocked until the holder ends, so the poll cannot miss it, and finished
 * work is seen as finished. Never hangs: when blocked, the caller ends the
 * holder's transaction and then awaits `work`.
 */
export async function finishesWithout(holder: { pid: number }, observer: Client, work: Promise<unknown>, timeoutMs = 60_000): Promise<'done' | 'blocked'> {
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  const settled = work.then(
    () => (finished = true),
    () => (finished = true),
  );
  for (;;) {
    if (finished) return 'done';
    if ((await waitingOn(observer, holder.pid)).length) return 'blocked';
    if (Date.now() > deadline) throw new Error(`the work neither finished nor waited on backend ${holder.pid} within ${timeoutMs} ms`);
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 25))]);
  }
}

import { Client } from 'pg';
import { createPgListener, type PgListener } from '../../../src/modules/notifications/pg-listener';
import { createTestDatabase } from '../../support/database';

/**
 * The listening connection cut without a word (here: its backend stopped
 * with SIGSTOP, so the socket stays open and nothing answers, as behind a
 * NAT that dropped the idle flow or a lost route) is noticed by the question
 * it must answer, reopened, and hears again; its readers are told to catch
 * up. Before, it waited in silence for good: no notification reached the
 * server until it was restarted.
 */
describe('the listening connection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let other: Client;
  let listener: PgListener;
  const logged: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    other = new Client({ connectionString: database.url });
    await other.connect();
    listener = createPgListener(database.url, (message) => logged.push(message), { everyMs: 300, answerMs: 1000 });
  });
  afterAll(async () => {
    await listener.close();
    await other.end();
    await database.drop();
  });

  const until = async (what: string, done: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const listeningBackends = async () =>
    (await other.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`)).rows.map(
      (row) => row.pid,
    );

  it('is reopened when it stops answering, and hears again', async () => {
    const heard: string[] = [];
    let reconnects = 0;
    listener.on('mulu_test_channel', (payload) => heard.push(payload));
    listener.onReconnect(() => reconnects++);
    for (let i = 0; heard.length === 0; i++) {
      if (i > 100) throw new Error('the listener never heard the first notification');
      await other.query(`select pg_notify('mulu_test_channel', 'before')`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [stopped] = await listeningBackends();
    process.kill(stopped, 'SIGSTOP');
    try {
      await until('a reconnect', () => reconnects === 1);
      expect(logged).toContain('[notifications] the listening connection did not answer within 1000 ms; reconnecting.');
      heard.length = 0;
      await other.query(`select pg_notify('mulu_test_channel', 'after')`);
      await until('the notification after the reconnect', () => heard.length > 0, 5000);
      expect(heard).toEqual(['after']);
    } finally {
      process.kill(stopped, 'SIGCONT');
      await other.query('select pg_terminate_backend($1)', [stopped]);
    }
  });
});

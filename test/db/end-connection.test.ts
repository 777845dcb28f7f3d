import { Client } from 'pg';
import { endConnection } from '../../src/db/end-connection';
import { createTestDatabase } from '../support/database';

/**
 * Mulu's own connections (LISTEN, the response cache's snapshot statement)
 * are ended by endConnection: a server that never acknowledges (a half-open
 * connection) must not hold a stopping server.
 */
describe('endConnection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  const connect = async () => {
    const client = new Client({ connectionString: database.url });
    client.on('error', () => undefined);
    await client.connect();
    const [{ pid }] = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows;
    return { client, pid };
  };

  it('ends a connection PostgreSQL answers, without the end listener', async () => {
    const { client } = await connect();
    let lost = false;
    client.on('end', () => (lost = true));
    await endConnection(client);
    expect(lost).toBe(false);
    await expect(client.query('select 1')).rejects.toThrow();
  });

  it('cuts the socket of a connection whose server does not acknowledge, after the wait', async () => {
    const { client, pid } = await connect();
    // The backend stops answering (as behind a dropped route): end() alone would wait for it indefinitely.
    process.kill(pid, 'SIGSTOP');
    try {
      const started = performance.now();
      await endConnection(client, 300);
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(5_000);
      expect((client as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream.destroyed).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

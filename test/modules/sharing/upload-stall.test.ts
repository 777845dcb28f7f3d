import net from 'node:net';
import { Client } from 'pg';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A bulk load (POST /mounts/{id}/rows) reads its body as it arrives, inside
 * its transaction: one pooled connection, one COPY and the mount's load lock
 * (an advisory lock) for as long as the upload takes. A client that stalls
 * or leaves mid-body must give all three back, store nothing, and let the
 * next load of the mount run. The body-rate window is two seconds here (ten
 * in production) so that the test is quick.
 */
const WINDOW_MS = 2000;
describe('a bulk upload whose client stalls or leaves mid-body', () => {
  let api: TestServer;
  // The test's own connection, outside the server's pool.
  let watcher: Client;
  let mountId: string;
  const P = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer({ bodyRate: { minBytesPerSecond: 1024, windowMs: WINDOW_MS, timeoutMs: 4000 } });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    mountId = await hostedDataset(api, P, 'D-UP', [{ name: '姓名', dataType: '字符型', required: true }], [{ 姓名: '张三' }]);
    watcher = new Client({ connectionString: api.orm.config.get('clientUrl') });
    await watcher.connect();
  });
  afterAll(async () => {
    await watcher.end();
    await api.close();
  });

  /** What a load holds while it reads: the mount's load lock (first key 13013) and a COPY into dataset_row. */
  const held = async () => {
    const { rows } = await watcher.query<{ locks: number; copies: number }>(
      `select (select count(*)::int from pg_locks where locktype = 'advisory' and classid = 13013 and granted) as locks,
              (select count(*)::int from pg_stat_activity where datname = current_database() and state <> 'idle' and query like 'copy dataset_row%') as copies`,
    );
    return rows[0];
  };
  const rowsStored = async () =>
    (
      await api.ok<{ directory: { rows: { edges: { node: { values: Record<string, string> } }[] } } }>(
        '{ directory(code: "D-UP") { rows(first: 100) { edges { node { values } } } } }',
      )
    ).directory.rows.edges.map((e) => e.node.values['姓名']);
  /** Until the load holds its lock and its COPY has begun (the lock is taken first). */
  const reading = async () =>
    until(async () => {
      const now = await held();
      return now.locks === 1 && now.copies === 1;
    });
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  /** An upload that announces 1 MB of CSV, sends its header and `rows`, then nothing more; answer: status line and body. */
  const stalledUpload = async (rows: string[]) => {
    const { port } = new URL(api.server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
    socket.write(
      `POST /mounts/${mountId}/rows?mode=append HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${api.adminToken}\r\ncontent-type: text/csv\r\ncontent-length: 1000000\r\n\r\n姓名\n${rows.map((r) => `${r}\n`).join('')}`,
    );
    return { socket, answer: closed };
  };
  const upload = (csv: string) =>
    fetch(api.server.url.replace('/graphql', `/mounts/${mountId}/rows?mode=append`), {
      method: 'POST',
      headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': 'text/csv' },
      body: csv,
    });

  it('a stalled upload is cut with 408 at the body rate: its COPY, connection and load lock are freed, nothing is stored, the next load runs', async () => {
    const started = Date.now();
    const { answer } = await stalledUpload(['李四', '王五']);
    await reading();
    expect(await held()).toEqual({ locks: 1, copies: 1 });
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/arrived too slowly/);
    expect(Date.now() - started).toBeLessThan(WINDOW_MS + 4000);
    await until(async () => (await held()).locks === 0);
    expect(await held()).toEqual({ locks: 0, copies: 0 });
    expect(await rowsStored()).toEqual(['张三']);
    const next = await upload('姓名\n赵六\n');
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ rowsLoaded: 1, recordCount: 2 });
    expect(await rowsStored()).toEqual(['张三', '赵六']);
  });

  it('an upload whose client leaves mid-body frees all three at once and stores nothing', async () => {
    const { socket } = await stalledUpload(['孙七']);
    await reading();
    expect(await held()).toEqual({ locks: 1, copies: 1 });
    const left = Date.now();
    socket.destroy();
    await until(async () => (await held()).locks === 0);
    expect(await held()).toEqual({ locks: 0, copies: 0 });
    // Well before the body-rate window could have cut it.
    expect(Date.now() - left).toBeLessThan(WINDOW_MS - 200);
    expect(await rowsStored()).toEqual(['张三', '赵六']);
  });

  it('two uploads of one mount queue, not interleave: the second waits for the stalled first, and runs once it is cut', async () => {
    const first = await stalledUpload(['周八']);
    await until(async () => (await held()).locks === 1);
    const second = upload('姓名\n吴九\n郑十\n');
    // The second waits on the mount's lock (its body is read already: a small one), while the first holds it.
    await new Promise((r) => setTimeout(r, 300));
    expect((await held()).locks).toBe(1);
    expect(await first.answer).toMatch(/^HTTP\/1\.1 408 /);
    const answer = await second;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ rowsLoaded: 2, recordCount: 4 });
    expect(await rowsStored()).toEqual(['张三', '赵六', '吴九', '郑十']);
    expect(await held()).toEqual({ locks: 0, copies: 0 });
  });
});

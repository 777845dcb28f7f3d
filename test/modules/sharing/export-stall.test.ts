import net from 'node:net';
import { Client } from 'pg';
import { createDepartment, createRegions, creditCode, hostedDataset } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A download of a whole dataset (GET /directories/{code}/rows.csv) streams
 * from one transaction on one pooled connection, without the statement
 * timeout. A client that stops reading must not hold them for ever.
 */
/**
 * A server holding D-BIG, a dataset far larger than the socket buffers hold
 * (about 40 MB of CSV), and the test's own connection outside the server's
 * pool, which counts the COPYs running even when the pool is full.
 */
function withBigDataset(start: () => Promise<TestServer>) {
  let api: TestServer;
  let watcher: Client;
  const P = creditCode('410505', 1);
  beforeAll(async () => {
    api = await start();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await hostedDataset(api, P, 'D-BIG', [{ name: '姓名', dataType: '字符型', required: true }], [{ 姓名: '张三' }]);
    await api.orm.em
      .fork()
      .execute(
        `insert into dataset_row (mount_id, version, row_no, data) select m.id, 1, g, jsonb_build_object('姓名', repeat('名', 120) || g) from mount m, generate_series(2, 100000) g where m.locator = 'mulu:D-BIG'`,
      );
    watcher = new Client({ connectionString: api.orm.config.get('clientUrl') });
    await watcher.connect();
  });
  afterAll(async () => {
    await watcher.end();
    await api.close();
  });
  return {
    api: () => api,
    exportsRunning: async () =>
      Number(
        (
          await watcher.query<{ n: string }>(
            `select count(*) as n from pg_stat_activity where datname = current_database() and state <> 'idle' and query like 'copy (select%'`,
          )
        ).rows[0].n,
      ),
    /** A raw download of D-BIG's CSV, its socket returned as soon as the request is sent. */
    download: async (token = api.adminToken) => {
      const { port } = new URL(api.server.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      socket.on('error', () => undefined);
      socket.write(`GET /directories/D-BIG/rows.csv HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n\r\n`);
      return socket;
    },
    until: async (done: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

describe('an export whose client stops reading', () => {
  const fixture = withBigDataset(() =>
    // Caller slots as in production (two at once), but a short wait: a download that kept its caller's slot would lock the
    // caller out (429) after two cuts.
    startTestServer({ sendStallMs: 1500, callerSlots: { perCaller: 2, queuedPerCaller: 4, maxWaitMs: 2000 } }),
  );
  const { exportsRunning, download, until } = fixture;
  let api: TestServer;
  beforeAll(() => (api = fixture.api()));

  it('ends the COPY and returns its connection when the client hangs up mid-download, however often', async () => {
    for (let i = 0; i < 3; i++) {
      const socket = await download();
      socket.pause();
      await until(async () => (await exportsRunning()) === 1);
      expect(await exportsRunning()).toBe(1);
      socket.destroy();
      await until(async () => (await exportsRunning()) === 0);
      expect(await exportsRunning()).toBe(0);
    }
    // The pool serves as before, the caller's slots were freed with each cut download (the admin's next request is let in
    // at once, not refused 429 after waiting), and nothing was logged as delivered.
    expect(await api.ok('{ directory(code: "D-BIG") { code } }')).toEqual({ directory: { code: 'D-BIG' } });
    const [logged] = await api.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from dataset_access where route = 'CSV'`);
    expect(Number(logged.n)).toBe(0);
  });

  it('gives up on it once nothing was sent for the stall time: the COPY ends, its transaction rolls back and the connection returns', async () => {
    const { port } = new URL(api.server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    // The client never reads: TCP fills up and the server's writes stop.
    socket.pause();
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write(`GET /directories/D-BIG/rows.csv HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${api.adminToken}\r\n\r\n`);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await exportsRunning()).toBe(1);
    for (let i = 0; i < 100 && (await exportsRunning()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await exportsRunning()).toBe(0);
    // The server closed the connection: the client reads what was sent, then the end.
    socket.resume();
    await until(async () => closed);
    expect(closed).toBe(true);
    // Nothing was logged as delivered.
    const [logged] = await api.orm.em.fork().execute<{ n: string }[]>(`select count(*) as n from dataset_access where route = 'CSV'`);
    expect(Number(logged.n)).toBe(0);
  });

  it('frees the caller slot of a cut download: a caller whose downloads were cut twice more is still served at once', async () => {
    for (let i = 0; i < 2; i++) {
      const socket = await download();
      await until(async () => (await exportsRunning()) === 1);
      socket.destroy();
      await until(async () => (await exportsRunning()) === 0);
    }
    const started = Date.now();
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
      body: JSON.stringify({ query: '{ directory(code: "D-BIG") { code } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { directory: { code: 'D-BIG' } } });
    // Let in at once, not after waiting for slots that are never freed (2 s, then 429).
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('frees the caller slots of downloads whose clients left while they waited for the download lane', async () => {
    // Four other callers fill the download lane (not reading: cut after the stall time); the caller's two downloads wait
    // behind them, each holding one of its two slots, and its client leaves.
    const others = await Promise.all(Array.from({ length: 4 }, (_, i) => api.signToken({ role: 'ADMIN', sub: `filler-${i}` })));
    const filling = await Promise.all(others.map((token) => download(token)));
    await until(async () => (await exportsRunning()) === 4);
    const token = await api.signToken({ role: 'ADMIN', sub: 'leaver' });
    const waiting = await Promise.all([download(token), download(token)]);
    await new Promise((r) => setTimeout(r, 200));
    for (const socket of waiting) socket.destroy();
    await until(async () => (await exportsRunning()) === 0);
    for (const socket of filling) socket.destroy();
    const started = Date.now();
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ directory(code: "D-BIG") { code } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { directory: { code: 'D-BIG' } } });
    // Let in at once (before: its slots were held for good by the two requests that left the line: 2 s, then 429).
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

/**
 * Each whole-dataset download holds a pooled connection for as long as it
 * takes; downloads beyond the download lane wait in line, so GraphQL keeps
 * connections of its own. The production stall time: slow readers, never cut.
 */
describe('more downloads at once than the pool holds', () => {
  const fixture = withBigDataset(() => startTestServer());
  const { exportsRunning, download, until } = fixture;
  let api: TestServer;
  beforeAll(() => (api = fixture.api()));

  it('streams at most four downloads at once, so ten slow ones (more than the pool holds) leave GraphQL its connections', async () => {
    // Ten callers (one caller's two slots would let it hold only two), each reading one chunk every 700 ms: slow readers,
    // never cut for stalling, each download holding a pooled connection for as long as it takes; the pool holds ten.
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => api.signToken({ role: 'ADMIN', sub: `exporter-${i}` })));
    const sockets = await Promise.all(tokens.map((token) => download(token)));
    for (const socket of sockets) socket.pause();
    const sips = setInterval(() => {
      for (const socket of sockets) {
        socket.once('data', () => socket.pause());
        socket.resume();
      }
    }, 700);
    try {
      await until(async () => (await exportsRunning()) >= 4);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await exportsRunning()).toBe(4);
      const started = Date.now();
      const response = await fetch(api.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
        // A page of rows: read from the database (no response cache answers it), on a pooled connection.
        body: JSON.stringify({ query: '{ directory(code: "D-BIG") { rows(first: 1) { edges { node { rowNumber } } } } }' }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { directory: { rows: { edges: [{ node: { rowNumber: 1 } }] } } } });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      clearInterval(sips);
    }
    // The ones waiting in line whose clients leave are gone from it; those streaming end their COPY.
    for (const socket of sockets) socket.destroy();
    await until(async () => (await exportsRunning()) === 0);
    expect(await exportsRunning()).toBe(0);
    // The lane is free again: a whole download goes through.
    const whole = await fetch(api.server.url.replace('/graphql', '/directories/D-BIG/rows.csv'), { headers: { authorization: `Bearer ${api.adminToken}` } });
    expect(whole.status).toBe(200);
    expect((await whole.text()).split('\n').length).toBe(100_000 + 2);
  });
});

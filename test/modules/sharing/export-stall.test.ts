import net from 'node:net';
import { createDepartment, createRegions, creditCode, hostedDataset } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A download of a whole dataset (GET /directories/{code}/rows.csv) streams
 * from one transaction on one pooled connection, without the statement
 * timeout. A client that stops reading must not hold them for ever.
 */
describe('an export whose client stops reading', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  beforeAll(async () => {
    // Caller slots as in production (two at once), but a short wait: a download that kept its caller's slot would lock the
    // caller out (429) after two cuts.
    api = await startTestServer({ sendStallMs: 1500, callerSlots: { perCaller: 2, queuedPerCaller: 4, maxWaitMs: 2000 } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await hostedDataset(api, P, 'D-BIG', [{ name: '姓名', dataType: '字符型', required: true }], [{ 姓名: '张三' }]);
    // Far more than the socket buffers hold: about 40 MB of CSV.
    await api.orm.em
      .fork()
      .execute(
        `insert into dataset_row (mount_id, version, row_no, data) select m.id, 1, g, jsonb_build_object('姓名', repeat('名', 120) || g) from mount m, generate_series(2, 100000) g where m.locator = 'mulu:D-BIG'`,
      );
  });
  afterAll(() => api.close());

  const exportsRunning = async () =>
    Number(
      (
        await api.orm.em
          .fork()
          .execute<{ n: string }[]>(`select count(*) as n from pg_stat_activity where datname = current_database() and query like 'copy (select%'`)
      )[0].n,
    );

  const download = async () => {
    const { port } = new URL(api.server.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.on('error', () => undefined);
    socket.write(`GET /directories/D-BIG/rows.csv HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${api.adminToken}\r\n\r\n`);
    return socket;
  };
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
  };

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
});

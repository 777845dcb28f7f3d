import net from 'node:net';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset } from '../support/builders';
import { http } from '../support/http';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Downloads are held by their caller's slots (caller-slots.ts) as GraphQL
 * requests are: one caller opening many exports at once runs two, lines up
 * a few and is refused the rest, while another caller is served; and no
 * download route runs anything for a caller without a token.
 */
describe('downloads under one greedy caller', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  beforeAll(async () => {
    api = await startTestServer({ callerSlots: { perCaller: 2, queuedPerCaller: 3, maxWaitMs: 20_000 }, sendStallMs: 30_000 });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await hostedDataset(api, P, 'D-BIG', [{ name: '姓名', dataType: '字符型', required: true }], [{ 姓名: '张三' }]);
    // Far more than the socket buffers hold (about 20 MB of CSV): a download that is not read stays running.
    await api.orm.em
      .fork()
      .execute(
        `insert into dataset_row (mount_id, version, row_no, data) select m.id, 1, g, jsonb_build_object('姓名', repeat('名', 120) || g) from mount m, generate_series(2, 50000) g where m.locator = 'mulu:D-BIG'`,
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
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
  };

  /** A download whose client reads its first bytes only: the status line, then nothing. */
  const open = async (token: string) => {
    const socket = net.connect(Number(new URL(api.server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (!head) head = chunk.subarray(0, 12).toString('latin1');
      socket.pause();
    });
    socket.write(`GET /directories/D-BIG/rows.csv HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n\r\n`);
    return { socket, status: () => head.slice(9, 12) };
  };

  it('runs two of one caller’s 20 exports, lines up 3, refuses 15 with 429, and serves another caller meanwhile', async () => {
    const greedy = await api.signToken({ role: 'STEWARD', department: P, sub: 'greedy', name: 'Greedy' });
    const downloads: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < 20; i++) downloads.push(await open(greedy));
    await until(async () => downloads.filter((d) => d.status() === '429').length === 15);
    expect(downloads.map((d) => d.status()).filter((s) => s === '429')).toHaveLength(15);
    await until(async () => (await exportsRunning()) === 2);
    expect(await exportsRunning()).toBe(2);
    // Another caller is not held up by the greedy one.
    const other = await http(api, '/directories/D-BIG/rows.ndjson', { token: api.adminToken });
    expect(other.status).toBe(200);
    expect(other.body.toString().split('\n').filter(Boolean)).toHaveLength(50_000);
    for (const d of downloads) d.socket.destroy();
    await until(async () => (await exportsRunning()) === 0);
    expect(await exportsRunning()).toBe(0);
  });

  it('runs nothing for a caller without a token: every download route answers 401', async () => {
    const routes = [
      '/directories/D-BIG/rows.csv',
      '/reports/410505/live/resources.xlsx',
      '/reports/410505/2026-01/supervision.csv',
      '/imports/directories/template.xlsx',
    ];
    for (const path of routes) {
      const answer = await http(api, path, { token: null });
      expect({ path, status: answer.status, code: JSON.parse(answer.body.toString()).error?.code }).toEqual({ path, status: 401, code: 'UNAUTHENTICATED' });
    }
  });
});

import net from 'node:net';
import { createDepartment, createRegions, creditCode } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A GraphQL answer is written whole (res.end); a client that never reads it
 * would keep its text in the server's memory for as long as it keeps the
 * connection open. Once nothing was sent for the stall time, the connection
 * is closed and the memory freed.
 */
describe('a GraphQL client that never reads its answer', () => {
  let api: TestServer;
  const P = creditCode('410505', 1);
  beforeAll(async () => {
    api = await startTestServer({ sendStallMs: 1500 });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
      input: {
        code: 'D-WIDE',
        name: '低保对象',
        departmentCreditCode: P,
        resourceFormat: 'DATABASE',
        shareType: 'UNCONDITIONAL',
        updateCycle: 'MONTHLY',
        informationItems: [{ name: '备注', dataType: '字符型' }],
      },
    });
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "D-WIDE" } }) { status } }`);
    const mounted = await api.ok(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
      input: { directory: { code: 'D-WIDE' }, kind: 'TABLE', locator: 'mulu:D-WIDE', hosted: true },
    });
    await api.ok(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { version } }`, {
      input: { mountId: mounted.mountDataset.id, rows: [{ 备注: 'x' }] },
    });
    // A page of 1,000 rows of 20,000 characters: an answer of about 20 MB, far more than the socket buffers hold.
    await api.orm.em
      .fork()
      .execute(
        `insert into dataset_row (mount_id, version, row_no, data) select m.id, 1, g, jsonb_build_object('备注', repeat('x', 20000)) from mount m, generate_series(2, 1000) g where m.locator = 'mulu:D-WIDE'`,
      );
  });
  afterAll(() => api.close());

  it('closes the connection once nothing was sent for the stall time', async () => {
    const { port } = new URL(api.server.url);
    // The server's end of this client's connection.
    const accepted = new Promise<net.Socket>((resolve) => api.server.httpServer.once('connection', resolve));
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.on('error', () => undefined);
    // The client never reads: TCP fills up and the server's write stops.
    socket.pause();
    const body = JSON.stringify({ query: '{ directory(code: "D-WIDE") { rows(first: 1000) { edges { node { values } } } } }' });
    socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${api.adminToken}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const server = await accepted;
    // Until the answer (made in a time that depends on the machine's load) is written and stuck in the socket's buffer.
    for (let i = 0; i < 400 && server.writableLength === 0 && !server.destroyed; i++) await new Promise((r) => setTimeout(r, 25));
    expect(server.destroyed).toBe(false);
    expect(server.writableLength).toBeGreaterThan(0);
    for (let i = 0; i < 100 && !server.destroyed; i++) await new Promise((r) => setTimeout(r, 100));
    expect(server.destroyed).toBe(true);
    socket.destroy();
    // Others are served as before.
    expect(await api.ok('{ directory(code: "D-WIDE") { code } }')).toEqual({ directory: { code: 'D-WIDE' } });
  });
});

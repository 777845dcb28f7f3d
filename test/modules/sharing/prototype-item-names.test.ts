import ExcelJS from 'exceljs';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';

const APPEND = `mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { rowsLoaded rowsRejected rejected { row column reason } } }`;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * An information item may be called anything a department's table calls a
 * column, __proto__, toString and constructor included. A row is an object
 * keyed by item name, so such names must be read as the row's own keys:
 * every route loads them as any other item and reads them back.
 */
describe('information items named as Object.prototype members', () => {
  let api: TestServer;
  let mountId: string;
  const A = creditCode('410505', 1);
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { code } }`, {
      input: {
        code: 'D-PROTO',
        name: '低保对象',
        departmentCreditCode: A,
        resourceFormat: 'DATABASE',
        shareType: 'CONDITIONAL',
        shareConditions: '仅用于低保资格核验',
        updateCycle: 'MONTHLY',
        informationItems: [
          { name: '__proto__', dataType: '字符型' },
          { name: 'toString', dataType: '字符型' },
          { name: 'constructor', dataType: '整数型' },
          { name: '名称', dataType: '字符型', required: true },
        ],
      },
    });
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "D-PROTO" } }) { status } }`);
    const mounted = await api.ok<{ mountDataset: { id: string } }>(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
      input: { directory: { code: 'D-PROTO' }, kind: 'TABLE', locator: 'mulu:D-PROTO', hosted: true },
    });
    mountId = mounted.mountDataset.id;
  });
  afterAll(() => api.close());

  it('are loaded by GraphQL, NDJSON, CSV and XLSX, left out or given, and read back as sent', async () => {
    // JSON.parse makes "__proto__" an own key, as the server's body reader does; an object literal would set a prototype.
    const full = (n: number) => JSON.parse(`{"__proto__":"p${n}","toString":"t${n}","constructor":${n},"名称":"r${n}"}`) as Record<string, unknown>;
    const graphql = await api.request(APPEND, { input: { mountId, rows: [{ 名称: 'r1' }, full(2)] } });
    expect(graphql).toEqual({ data: { appendDatasetRows: { rowsLoaded: 2, rowsRejected: 0, rejected: [] } } });

    const ndjson = `{"名称":"r3"}\n${JSON.stringify(full(4))}\n`;
    const fromNdjson = await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: ndjson, contentType: 'application/x-ndjson' });
    expect({ status: fromNdjson.status, rowsLoaded: fromNdjson.json().rowsLoaded }).toEqual({ status: 200, rowsLoaded: 2 });

    const csv = '__proto__,toString,constructor,名称\n,,,r5\np6,t6,6,r6\n';
    const fromCsv = await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: csv, contentType: 'text/csv' });
    expect({ status: fromCsv.status, rowsLoaded: fromCsv.json().rowsLoaded }).toEqual({ status: 200, rowsLoaded: 2 });

    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('rows');
    sheet.addRow(['名称', '__proto__', 'toString', 'constructor']);
    sheet.addRow(['r7']);
    sheet.addRow(['r8', 'p8', 't8', 8]);
    const fromXlsx = await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: Buffer.from(await workbook.xlsx.writeBuffer()), contentType: XLSX });
    expect({ status: fromXlsx.status, rowsLoaded: fromXlsx.json().rowsLoaded }).toEqual({ status: 200, rowsLoaded: 2 });

    const stored = await api.ok<{ directory: { rows: { edges: { node: { values: Record<string, unknown> } }[] } } }>(
      `{ directory(code: "D-PROTO") { rows(first: 20) { edges { node { values } } } } }`,
    );
    const expected = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => (n % 2 ? { 名称: `r${n}` } : full(n)));
    expect(stored.directory.rows.edges.map((e) => e.node.values)).toEqual(expected);

    const exported = await http(api, '/directories/D-PROTO/rows.csv');
    expect(
      exported.body
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .split(/\r?\n/)
        .filter(Boolean),
    ).toEqual(['__proto__,toString,constructor,名称', ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => (n % 2 ? `,,,r${n}` : `p${n},t${n},${n},r${n}`))]);
  });

  it('are delivered to a consumer granted some items only', async () => {
    const B = creditCode('410505', 2);
    await createDepartment(api, { creditCode: B, name: '殷都区人社局', regionCode: '410505' });
    const consumer = api.withToken(await api.signToken({ role: 'STEWARD', department: B, sub: 'steward-B', name: 'Steward B' }));
    const request = await consumer.ok<{ requestSubscription: { id: string } }>(
      `mutation { requestSubscription(input: { directory: { code: "D-PROTO" }, purpose: "低保资格核验" }) { id } }`,
    );
    const granted = await api.ok<{ approveSubscriptionRequest: { grantedItems: string[] } }>(
      `mutation($id: ID!, $items: [String!]) { approveSubscriptionRequest(input: { id: $id, grantedItems: $items }) { grantedItems } }`,
      { id: request.requestSubscription.id, items: ['__proto__', 'toString', '名称'] },
    );
    expect(granted.approveSubscriptionRequest.grantedItems).toEqual(['__proto__', 'toString', '名称']);
    const read = await consumer.ok<{ directory: { rows: { edges: { node: { values: Record<string, unknown> } }[] } } }>(
      `{ directory(code: "D-PROTO") { rows(first: 3) { edges { node { values } } } } }`,
    );
    expect(read.directory.rows.edges.map((e) => e.node.values)).toEqual([
      { 名称: 'r1' },
      JSON.parse('{"__proto__":"p2","toString":"t2","名称":"r2"}'),
      { 名称: 'r3' },
    ]);
  });

  it('are found by row filters', async () => {
    for (const [item, eq] of [
      ['__proto__', 'p4'],
      ['toString', 't4'],
      ['constructor', '4'],
    ]) {
      const found = await api.ok<{ directory: { rows: { edges: { node: { values: Record<string, unknown> } }[] } } }>(
        `query($filter: [DatasetRowFilter!]) { directory(code: "D-PROTO") { rows(first: 20, filter: $filter) { edges { node { values } } } } }`,
        { filter: [{ item, eq }] },
      );
      expect({ item, names: found.directory.rows.edges.map((e) => e.node.values['名称']) }).toEqual({ item, names: ['r4'] });
    }
  });
});

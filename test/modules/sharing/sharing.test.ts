import { request as httpRequest } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import { createDepartment, createRegions, creditCode, errorCodes, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { baseUrl, http } from '../../support/http';
import { deflated, repeatedDeflate, rowXml, sheetHead, sheetTail, workbookParts, zipOf } from '../../support/xlsx-parts';
import { encodeRowCursor } from '../../../src/modules/sharing/delivery.service';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';

const ITEMS = [
  { name: '姓名', dataType: '字符型', required: true },
  { name: '身份证号', dataType: '字符型' },
  { name: '年龄', dataType: '整数型' },
  { name: '补助金额', dataType: '数值型' },
  { name: '发放日期', dataType: '日期型' },
  { name: '在册', dataType: 'varchar', valueType: 'BOOLEAN' },
];

const APPEND = `mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { version mode rowsLoaded rowsRejected recordCount replayed rejected { row column reason } mount { recordCount hosted datasetVersion } } }`;
const REPLACE = `mutation($input: DatasetRowsInput!) { replaceDatasetRows(input: $input) { version mode rowsLoaded recordCount replayed mount { recordCount datasetVersion } } }`;
const ROWS = `query($code: String!, $first: Int, $after: String, $filter: [DatasetRowFilter!]) { directory(code: $code) { rows(first: $first, after: $after, filter: $filter) { version edges { cursor node { rowNumber values } } pageInfo { hasNextPage endCursor } } } }`;

const row = (i: number) => ({
  姓名: `张${i}`,
  身份证号: `41050519800101${String(i).padStart(4, '0')}`,
  年龄: 20 + (i % 50),
  补助金额: `${100 + i}.50`,
  发放日期: `2024-01-${String(1 + (i % 28)).padStart(2, '0')}`,
  在册: i % 2 === 0,
});

describe('data sharing: hosted datasets, delivery and usage (issue 13)', () => {
  let api: TestServer;
  const P = creditCode('410505', 1); // provider
  const FULL = creditCode('410505', 2);
  const PART = creditCode('410502', 3); // restricted grant, another district
  const PEND = creditCode('410505', 4);
  const REJ = creditCode('410505', 5);
  const REV = creditCode('410505', 6);
  const LAP = creditCode('410505', 7);
  const OTHER = creditCode('410505', 8);
  let mountId: string;
  const steward: Record<string, ApiClient> = {};
  const tokens: Record<string, string> = {};

  const append = (client: ApiClient, rows: unknown[], extra: Record<string, unknown> = {}) => client.request(APPEND, { input: { mountId, rows, ...extra } });
  const recordCount = async () =>
    (await api.ok(`{ directory(code: "D-HOST") { dataVolume: mounts { recordCount } } }`)).directory.dataVolume[0].recordCount as number;

  async function directory(code: string, shareType: string, publish = true) {
    await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
      input: {
        code,
        name: `资源 ${code}`,
        departmentCreditCode: P,
        resourceFormat: 'DATABASE',
        shareType,
        shareConditions: shareType === 'UNCONDITIONAL' ? null : '仅用于低保资格核验',
        updateCycle: 'MONTHLY',
        informationItems: ITEMS,
      },
    });
    if (publish) await api.ok(`mutation { publishDirectory(input: { directory: { code: "${code}" } }) { status } }`);
  }
  const mountHosted = async (code: string, kind = 'TABLE') =>
    api.request(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id hosted recordCount datasetVersion } }`, {
      input: { directory: { code }, kind, locator: `mulu:${code}`, hosted: true },
    });

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    const names: Record<string, [string, string]> = {
      P: [P, '殷都区民政局'],
      FULL: [FULL, '殷都区人社局'],
      PART: [PART, '文峰区教育局'],
      PEND: [PEND, '殷都区卫健委'],
      REJ: [REJ, '殷都区住建局'],
      REV: [REV, '殷都区医保局'],
      LAP: [LAP, '殷都区残联'],
      OTHER: [OTHER, '殷都区文旅局'],
    };
    for (const [key, [code, name]] of Object.entries(names)) {
      await createDepartment(api, { creditCode: code, name, regionCode: code === PART ? '410502' : '410505' });
      tokens[key] = await api.signToken({ role: 'STEWARD', department: code, sub: `steward-${key}`, name: `Steward ${key}` });
      steward[key] = api.withToken(tokens[key]);
    }
    tokens.VIEWER = await api.signToken({ role: 'VIEWER', sub: 'viewer' });
    await directory('D-HOST', 'CONDITIONAL');
    const mounted = await mountHosted('D-HOST');
    expect(mounted.errors).toBeUndefined();
    mountId = mounted.data!.mountDataset.id;
    expect(mounted.data!.mountDataset).toMatchObject({ hosted: true, recordCount: 0, datasetVersion: 0 });
  });
  afterAll(() => api.close());

  describe('loading rows', () => {
    it('appends checked rows; the record count is the rows held, and the figures above it follow', async () => {
      const response = await append(steward.P, [row(1), row(2), { 姓名: '李四', 年龄: '33', 补助金额: 12.25, 发放日期: '2024/2/3', 在册: '是' }], {
        idempotencyKey: 'load-1',
      });
      expect(response.errors).toBeUndefined();
      expect(response.data!.appendDatasetRows).toMatchObject({
        version: 1,
        mode: 'APPEND',
        rowsLoaded: 3,
        rowsRejected: 0,
        recordCount: 3,
        replayed: false,
        mount: { recordCount: 3, hosted: true, datasetVersion: 1 },
      });
      const figures = await api.ok(
        `{ directory(code: "D-HOST") { dataVolume mounted } department(creditCode: "${P}") { mountStats { dataVolume } } region(code: "410500") { mountStats { dataVolume } } }`,
      );
      expect(figures).toEqual({
        directory: { dataVolume: 3, mounted: true },
        department: { mountStats: { dataVolume: 3 } },
        region: { mountStats: { dataVolume: 3 } },
      });
    });

    it('is idempotent: the same key changes nothing and returns the first result', async () => {
      const first = [row(1), row(2), { 姓名: '李四', 年龄: '33', 补助金额: 12.25, 发放日期: '2024/2/3', 在册: '是' }];
      const again = await append(steward.P, first, { idempotencyKey: 'load-1' });
      expect(again.data!.appendDatasetRows).toMatchObject({ rowsLoaded: 3, recordCount: 3, replayed: true });
      // A key is no way around the permission check.
      expect(errorCodes(await append(steward.OTHER, [row(9)], { idempotencyKey: 'load-1' }))).toEqual(['FORBIDDEN']);
      expect(await recordCount()).toBe(3);
    });

    it('refuses a used key for another load (other rows, other mode, acceptPartial, another route) as CONFLICT, not a replay of the first', async () => {
      await directory('D-IDEM', 'UNCONDITIONAL');
      const id = (await mountHosted('D-IDEM')).data!.mountDataset.id;
      const load = (rows: unknown[], extra: Record<string, unknown> = {}, mutation = 'appendDatasetRows') =>
        steward.P.request(APPEND.replace('appendDatasetRows', mutation), { input: { mountId: id, rows, idempotencyKey: 'k', ...extra } });
      const count = async () => (await api.ok(`{ directory(code: "D-IDEM") { mounts { recordCount } } }`)).directory.mounts[0].recordCount;
      expect((await load([row(1), row(2)])).data!.appendDatasetRows).toMatchObject({ recordCount: 2, replayed: false });
      expect((await load([row(1), row(2)])).data!.appendDatasetRows).toMatchObject({ recordCount: 2, replayed: true });
      for (const refused of [
        await load([row(9), row(10)]),
        await load([row(2), row(1)]),
        await load([row(1), row(2)], {}, 'replaceDatasetRows'),
        await load([row(1), row(2)], { acceptPartial: true }),
      ]) {
        expect(errorCodes(refused)).toEqual(['CONFLICT']);
        expect(refused.errors![0].message).toMatch(
          /^The idempotency key "k" already named another load of this mount \(version 1, append through GraphQL, .*Nothing was stored\.$/,
        );
      }
      const sent = (csv: string, key: string) =>
        http(api, `/mounts/${id}/rows?idempotencyKey=${key}`, { method: 'POST', body: Buffer.from(csv), contentType: 'text/csv', token: tokens.P });
      expect([(await sent('姓名\n张1\n', 'k')).status]).toEqual([409]);
      // Over HTTP the body is compared byte for byte (once decoded): a retry replays; another body under the key is refused, even one read alike.
      expect((await sent('姓名\n王五\n', 'bulk')).json()).toMatchObject({ rowsLoaded: 1, recordCount: 3, replayed: false });
      expect((await sent('姓名\n王五\n', 'bulk')).json()).toMatchObject({ rowsLoaded: 1, recordCount: 3, replayed: true });
      for (const body of ['姓名\n王六\n', '姓名\r\n王五\r\n']) {
        const other = await sent(body, 'bulk');
        expect([other.status, other.json().error.code]).toEqual([409, 'CONFLICT']);
        expect(other.json().error.message).toContain('through POST /mounts/{id}/rows');
      }
      expect(await count()).toBe(3);
      // The connection and the mount's queue serve on.
      expect((await sent('姓名\n赵七\n', 'bulk-2')).json()).toMatchObject({ recordCount: 4, replayed: false });
    });

    it.each([
      ['an unknown column', { 姓名: '王五', 电话: '123' }, '电话', 'Unknown column "电话"'],
      ['a wrong type', { 姓名: '王五', 年龄: '三十' }, '年龄', 'not a whole number'],
      ['a bad date', { 姓名: '王五', 发放日期: '2024-02-30' }, '发放日期', 'not a date'],
      ['a missing required item', { 年龄: 3 }, '姓名', 'is required'],
      ['a NUL character', { 姓名: 'a\u0000b' }, '姓名', 'NUL character'],
      // JSON escapes half of a UTF-16 pair alone; PostgreSQL's jsonb refuses it, which failed the whole load naming no row.
      ['half of a UTF-16 pair', { 姓名: 'a\ud800b' }, '姓名', 'lone surrogate'],
      // What JSON.parse makes of 98765432109876543.21 sent as a number: stored, it would have been another amount.
      ['a decimal JSON number past 2^53', { 姓名: '王五', 补助金额: 98765432109876540 }, '补助金额', 'send the decimal as a string'],
      ['an oversized row', { 姓名: 'x'.repeat(40_000) }, null, 'at most 32768 bytes'],
    ])('refuses %s with its row and column, and stores nothing', async (_what, bad, column, reason) => {
      const response = await append(steward.P, [row(3), bad]);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      const rowErrors = response.errors![0].extensions!.rowErrors as { row: number; column: string | null; reason: string }[];
      expect(rowErrors[0]).toMatchObject({ row: 2, column });
      expect(rowErrors[0].reason).toContain(reason);
      expect(await recordCount()).toBe(3);
    });

    it('stores the good rows with acceptPartial and reports the bad ones', async () => {
      const response = await append(steward.P, [row(4), { 姓名: '赵六', 年龄: 'x' }, row(5)], { acceptPartial: true });
      expect(response.data!.appendDatasetRows).toMatchObject({ rowsLoaded: 2, rowsRejected: 1, recordCount: 5, rejected: [{ row: 2, column: '年龄' }] });
    });

    it('refuses datasets that are not hosted, unmounted, or of unpublished directories; and other departments', async () => {
      expect(errorCodes(await mountHosted('D-HOST'))).toEqual(['CONFLICT']); // one hosted dataset per directory
      await directory('D-DRAFT', 'UNCONDITIONAL', false);
      expect(errorCodes(await mountHosted('D-DRAFT', 'API'))).toEqual(['BAD_USER_INPUT']);
      const external = await api.ok(
        `mutation { mountDataset(input: { directory: { code: "D-DRAFT" }, kind: TABLE, locator: "ods.t", recordCount: 7 }) { id hosted recordCount } }`,
      );
      expect(external.mountDataset).toMatchObject({ hosted: false, recordCount: 7 });
      expect(errorCodes(await api.request(APPEND, { input: { mountId: external.mountDataset.id, rows: [row(1)] } }))).toEqual(['CONFLICT']);
      const draftHosted = (await mountHosted('D-DRAFT')).data!.mountDataset.id;
      const draft = await api.request(APPEND, { input: { mountId: draftHosted, rows: [row(1)] } });
      expect(errorCodes(draft)).toEqual(['CONFLICT']);
      expect(draft.errors![0].message).toContain('draft');
      await api.ok(`mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { active } }`, { id: draftHosted });
      expect(errorCodes(await api.request(APPEND, { input: { mountId: draftHosted, rows: [row(1)] } }))).toEqual(['CONFLICT']);
      expect(errorCodes(await api.request(`mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 9 }) { id } }`, { id: mountId }))).toEqual([
        'CONFLICT',
      ]);
      expect(errorCodes(await append(steward.OTHER, [row(1)]))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await append(api.withToken(tokens.VIEWER), [row(1)]))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await append(api.anonymous, [row(1)]))).toEqual(['UNAUTHENTICATED']);
      expect(await recordCount()).toBe(5);
    });

    it('loads CSV, NDJSON and XLSX through POST /mounts/{id}/rows, with the same checks', async () => {
      const csv = '\uFEFF姓名,年龄,补助金额,发放日期,在册\n"王,五",41,88.10,2024-03-01,否\n钱七,,,,\n';
      const loaded = await http(api, `/mounts/${mountId}/rows?idempotencyKey=csv-1`, { method: 'POST', body: csv, contentType: 'text/csv', token: tokens.P });
      expect(loaded.status).toBe(200);
      expect(loaded.json()).toMatchObject({ rowsLoaded: 2, recordCount: 7, replayed: false });
      const replay = await http(api, `/mounts/${mountId}/rows?idempotencyKey=csv-1`, { method: 'POST', body: csv, contentType: 'text/csv', token: tokens.P });
      expect(replay.json()).toMatchObject({ recordCount: 7, replayed: true });

      const unknown = await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: '姓名,电话\n甲,1\n', contentType: 'text/csv', token: tokens.P });
      expect(unknown.status).toBe(400);
      expect(unknown.json().error.message).toContain('Unknown column(s) "电话"');
      const wrong = await http(api, `/mounts/${mountId}/rows`, {
        method: 'POST',
        body: '{"姓名":"甲"}\n{"姓名":"乙","年龄":1.5}\nnot json\n{"姓名":"丁","补助金额":1e400}\n',
        contentType: 'application/x-ndjson',
        token: tokens.P,
      });
      expect(wrong.status).toBe(400);
      expect(wrong.json().error.rowErrors).toEqual([
        { row: 2, column: '年龄', reason: expect.stringContaining('not a whole number') },
        { row: 3, column: null, reason: 'This line is not JSON.' },
        // Read as Infinity: named so, not as the null JSON.stringify writes for it.
        { row: 4, column: '补助金额', reason: expect.stringMatching(/^补助金额: Infinity is beyond what a JSON number holds exactly/) },
      ]);
      // Bytes that are not UTF-8 in a line (a GBK file): refused as in CSV, not stored as U+FFFD.
      const gbk = Buffer.concat([Buffer.from('{"姓名":"甲"}\n{"姓名":"'), Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]), Buffer.from('"}\n')]);
      const notUtf8 = await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: gbk, contentType: 'application/x-ndjson', token: tokens.P });
      expect(notUtf8.status).toBe(400);
      expect(notUtf8.json().error.rowErrors).toEqual([{ row: 2, column: null, reason: expect.stringContaining('is not UTF-8 text') }]);
      expect(await recordCount()).toBe(7);

      const ndjson = `${JSON.stringify(row(20))}\n\n${JSON.stringify(row(21))}\n`;
      expect(
        (await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: ndjson, contentType: 'application/x-ndjson', token: tokens.P })).json(),
      ).toMatchObject({ rowsLoaded: 2, recordCount: 9 });

      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('rows');
      sheet.addRow(['姓名', '年龄', '发放日期']);
      sheet.addRow(['孙八', 52, new Date(Date.UTC(2024, 3, 5))]);
      const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
      const fromXlsx = await http(api, `/mounts/${mountId}/rows`, {
        method: 'POST',
        body: xlsx,
        contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        token: tokens.P,
      });
      expect(fromXlsx.json()).toMatchObject({ rowsLoaded: 1, recordCount: 10 });
      expect(
        (await http(api, `/mounts/${mountId}/rows`, { method: 'POST', body: ndjson, contentType: 'application/x-ndjson', token: tokens.OTHER })).status,
      ).toBe(403);
    });

    it("refuses a body that is not a workbook, and a NUL or a repeated key in the query string, as the steward's error: nothing stored", async () => {
      const before = await recordCount();
      const workbook = new ExcelJS.Workbook();
      workbook.addWorksheet('rows').addRow(['姓名']);
      const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
      for (const [what, body] of [
        ['an empty body', Buffer.alloc(0)],
        ['a workbook cut short', xlsx.subarray(0, Math.floor(xlsx.length / 2))],
        ['a zip signature and then nothing of a zip', Buffer.from('PK\u0003\u0004garbage')],
        ['text', Buffer.from('姓名\n甲\n')],
      ] as const) {
        const answer = await http(api, `/mounts/${mountId}/rows`, {
          method: 'POST',
          body,
          contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          token: tokens.P,
        });
        expect([what, answer.status, answer.json().error]).toEqual([
          what,
          400,
          { code: 'BAD_USER_INPUT', message: 'The XLSX file cannot be read; save it again from the spreadsheet program as an Excel workbook (.xlsx).' },
        ]);
      }
      const nul = await http(api, `/mounts/${mountId}/rows?idempotencyKey=k%00`, {
        method: 'POST',
        body: '姓名\n甲\n',
        contentType: 'text/csv',
        token: tokens.P,
      });
      expect([nul.status, nul.json().error.code, nul.json().error.field]).toEqual([400, 'BAD_USER_INPUT', 'idempotencyKey']);
      // A key given twice was read as no key at all: the load ran, and its retry would have loaded the rows again.
      const twice = await http(api, `/mounts/${mountId}/rows?idempotencyKey=a&idempotencyKey=b`, {
        method: 'POST',
        body: '姓名\n甲\n',
        contentType: 'text/csv',
        token: tokens.P,
      });
      expect([twice.status, twice.json().error]).toEqual([
        400,
        { code: 'BAD_USER_INPUT', message: 'The query parameter idempotencyKey is given 2 times; give it once.', field: 'idempotencyKey' },
      ]);
      expect(await recordCount()).toBe(before);
    });

    it('refuses an XLSX bomb while it inflates, as an import does, before exceljs holds it: nothing stored', async () => {
      const before = await recordCount();
      const header = `${sheetHead}${rowXml(1, ['姓名'])}`;
      const lyingSheet = (unit: string, megabytes: number, declared: number) =>
        zipOf(
          workbookParts({ name: 'sheet', data: repeatedDeflate(header, unit, (megabytes * 1024 * 1024) / unit.length, sheetTail), declaredSize: declared }),
        );
      // Shared strings of a few hundred kilobytes that exceljs would cache whole: 330 MB of the server's memory for every 50 MB they inflate to.
      const strings = zipOf(
        workbookParts(deflated('sheet', `${header}<row r="2"><c t="s"><v>0</v></c></row>${sheetTail}`), {
          name: 'xl/sharedStrings.xml',
          data: repeatedDeflate('<sst>', '<si><t>a</t></si>', (200 * 1024 * 1024) / 17, '</sst>'),
          declaredSize: 1024 * 1024,
        }),
      );
      const cell = zipOf(
        workbookParts({
          name: 'sheet',
          data: repeatedDeflate(`${header}<row r="2"><c t="inlineStr"><is><t>`, 'A', 200 * 1024 * 1024, `</t></is></c></row>${sheetTail}`),
          declaredSize: 1024 * 1024,
        }),
      );
      for (const [what, body, message] of [
        [
          'rows declaring 3 GB',
          lyingSheet('<row><c><v>1</v></c></row>', 3 * 1024, 3 * 1024 * 1024 * 1024),
          /inflates to 3072 MB; an upload may inflate to at most 100 MB/,
        ],
        ['rows declaring 64 KB', lyingSheet('<row><c><v>1</v></c></row>', 200, 64 * 1024), /declares 65536 bytes but inflates to more/],
        ['shared strings declaring 1 MB', strings, /declares 1048576 bytes but inflates to more/],
        ['one cell of 200 MB', cell, /a cell longer than 32767 characters/],
      ] as const) {
        expect(body.length).toBeLessThan(10 * 1024 * 1024);
        const answer = await http(api, `/mounts/${mountId}/rows`, {
          method: 'POST',
          body,
          contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          token: tokens.P,
        });
        expect([what, answer.status, answer.json().error.code]).toEqual([what, 413, 'PAYLOAD_TOO_LARGE']);
        expect(answer.json().error.message).toMatch(message);
      }
      expect(await recordCount()).toBe(before);
    });
  });

  describe('delivery and permissions', () => {
    beforeAll(async () => {
      const request = (key: string) =>
        steward[key]
          .ok<{ requestSubscription: { id: string } }>(
            `mutation { requestSubscription(input: { directory: { code: "D-HOST" }, purpose: "低保资格核验" }) { id } }`,
          )
          .then((d) => d.requestSubscription.id);
      const approve = (id: string, grantedItems?: string[]) =>
        steward.P.ok(`mutation($id: ID!, $items: [String!]) { approveSubscriptionRequest(input: { id: $id, grantedItems: $items }) { status grantedItems } }`, {
          id,
          items: grantedItems,
        });
      await approve(await request('FULL'));
      // Names as a steward may type them, with a space or an invisible character at an end: the items they name.
      const restricted = await approve(await request('PART'), [' 姓名', '补助金额\u200b ']);
      expect(restricted.approveSubscriptionRequest).toEqual({ status: 'GRANTED', grantedItems: ['姓名', '补助金额'] });
      await request('PEND');
      await steward.P.ok(`mutation($id: ID!) { rejectSubscriptionRequest(input: { id: $id, reason: "用途不符" }) { status } }`, { id: await request('REJ') });
      const revoked = await request('REV');
      await approve(revoked);
      await steward.P.ok(`mutation($id: ID!) { revokeSubscription(input: { id: $id }) { status } }`, { id: revoked });
      await approve(await request('LAP'));
      await api.orm.em
        .fork()
        .getConnection()
        .execute(`update subscription_request set end_date = '2020-01-01' where requester_id = (select id from department where credit_code = ?)`, [LAP]);
    });

    const cases: [string, () => ApiClient, () => string | null, string | null, string[] | null][] = [
      ['the provider steward', () => steward.P, () => tokens.P, null, null],
      ['an administrator', () => api, () => api.adminToken, null, null],
      ['a granted consumer', () => steward.FULL, () => tokens.FULL, null, null],
      ['a consumer granted two items', () => steward.PART, () => tokens.PART, null, ['姓名', '补助金额']],
      ['a pending requester', () => steward.PEND, () => tokens.PEND, 'FORBIDDEN', null],
      ['a rejected requester', () => steward.REJ, () => tokens.REJ, 'FORBIDDEN', null],
      ['a revoked subscriber', () => steward.REV, () => tokens.REV, 'FORBIDDEN', null],
      ['a lapsed subscriber', () => steward.LAP, () => tokens.LAP, 'FORBIDDEN', null],
      ['another department', () => steward.OTHER, () => tokens.OTHER, 'FORBIDDEN', null],
      ['a viewer', () => api.withToken(tokens.VIEWER), () => tokens.VIEWER, 'FORBIDDEN', null],
      ['an anonymous caller', () => api.anonymous, () => null, 'UNAUTHENTICATED', null],
    ];

    // Why a department with requests is refused: its newest request's status, as the message says it.
    const reasons: Record<string, string> = {
      'a pending requester': 'its request is pending',
      'a rejected requester': 'its request was rejected',
      'a revoked subscriber': 'its subscription was revoked',
      'a lapsed subscriber': 'its subscription lapsed',
    };

    it.each(cases)('%s: GraphQL and CSV agree', async (who, client, token, code, only) => {
      const response = await client().request(ROWS, { code: 'D-HOST', first: 2 });
      const csv = await http(api, '/directories/D-HOST/rows.csv', { token: token() });
      const ndjson = await http(api, '/directories/D-HOST/rows.ndjson', { token: token() });
      if (code) {
        expect(errorCodes(response)).toEqual([code]);
        expect(response.data?.directory?.rows ?? null).toBeNull();
        expect(csv.status).toBe(code === 'FORBIDDEN' ? 403 : 401);
        expect(ndjson.status).toBe(csv.status);
        expect(csv.json().error.code).toBe(code);
        if (code === 'FORBIDDEN') {
          expect(response.errors![0].message).toContain('requestSubscription');
          if (reasons[who]) expect(response.errors![0].message).toContain(reasons[who]);
          else expect(response.errors![0].message).not.toMatch(/its (request|subscription)/);
          expect(csv.json().error.message).toBe(response.errors![0].message);
        }
        return;
      }
      expect(response.errors).toBeUndefined();
      const edges = response.data!.directory.rows.edges;
      expect(edges.map((e: { node: { rowNumber: number } }) => e.node.rowNumber)).toEqual([1, 2]);
      const expected = only ? Object.fromEntries(Object.entries(row(1)).filter(([k]) => only.includes(k))) : { ...row(1), 补助金额: '101.50', 在册: false };
      expect(edges[0].node.values).toEqual(expected);
      expect(csv.status).toBe(200);
      const lines = csv.body
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\n');
      expect(lines[0]).toBe((only ?? ITEMS.map((i) => i.name)).join(','));
      expect(lines).toHaveLength(11);
      expect(lines).toContain(only ? '"王,五",88.10' : '"王,五",,41,88.10,2024-03-01,false');
      const objects = ndjson.body
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(objects).toHaveLength(10);
      expect(objects[0]).toEqual(expected);
      // The page's statement writes its own log entry, before the page is answered: who, for which department and grant, which items.
      const [entry] = await api.orm.em
        .fork()
        .getConnection()
        .execute(
          `select a.route, c.credit_code as consumer, a.subscription_id is not null as granted, a.rows_delivered::int as rows, a.columns from dataset_access a
             left join department c on c.id = a.consumer_id
            where a.directory_id = (select id from resource_directory where code = 'D-HOST') and a.route = 'GRAPHQL' order by a.id desc limit 1`,
        );
      const owner = who === 'the provider steward' || who === 'an administrator';
      expect(entry).toEqual({ route: 'GRAPHQL', consumer: owner ? null : only ? PART : FULL, granted: !owner, rows: 2, columns: only });
    });

    it('restricted consumers cannot filter on items they were not granted; others filter by equality and range', async () => {
      const hidden = await steward.PART.request(ROWS, { code: 'D-HOST', filter: [{ item: '年龄', eq: '21' }] });
      expect(errorCodes(hidden)).toEqual(['BAD_USER_INPUT']);
      const range = await steward.FULL.ok(ROWS, {
        code: 'D-HOST',
        first: 10,
        filter: [
          { item: '年龄', gte: '21', lte: '41' },
          { item: '在册', eq: 'false' },
        ],
      });
      expect(range.directory.rows.edges.map((e: { node: { values: { 姓名: string } } }) => e.node.values.姓名)).toEqual(['张1', '张5', '王,五', '张21']);
      const bad = await steward.FULL.request(ROWS, { code: 'D-HOST', filter: [{ item: '发放日期', gt: 'soon' }] });
      expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    });

    it('pages with cursors, and refuses a cursor of a replaced version', async () => {
      const first = await steward.FULL.ok(ROWS, { code: 'D-HOST', first: 4 });
      expect(first.directory.rows.pageInfo.hasNextPage).toBe(true);
      const second = await steward.FULL.ok(ROWS, { code: 'D-HOST', first: 4, after: first.directory.rows.pageInfo.endCursor });
      expect(second.directory.rows.edges.map((e: { node: { rowNumber: number } }) => e.node.rowNumber)).toEqual([5, 6, 7, 8]);
      // Each edge's cursor is encodeRowCursor of the version and its row number, which the next page reads back.
      expect(second.directory.rows.edges.map((e: { cursor: string }) => e.cursor)).toEqual([5, 6, 7, 8].map((n) => encodeRowCursor(1, n)));
      expect(second.directory.rows.pageInfo.endCursor).toBe(encodeRowCursor(1, 8));
      const replaced = await steward.P.request(REPLACE, { input: { mountId, rows: [row(100), row(101), row(102), row(103), row(104), row(105)] } });
      expect(replaced.data!.replaceDatasetRows).toMatchObject({
        version: 2,
        mode: 'REPLACE',
        rowsLoaded: 6,
        recordCount: 6,
        mount: { recordCount: 6, datasetVersion: 2 },
      });
      const stale = await steward.FULL.request(ROWS, { code: 'D-HOST', first: 4, after: first.directory.rows.pageInfo.endCursor });
      expect(errorCodes(stale)).toEqual(['CONFLICT']);
      const fresh = await steward.FULL.ok(ROWS, { code: 'D-HOST', first: 10 });
      expect(fresh.directory.rows).toMatchObject({ version: 2 });
      expect(fresh.directory.rows.edges.map((e: { node: { values: { 姓名: string } } }) => e.node.values.姓名)).toEqual([
        '张100',
        '张101',
        '张102',
        '张103',
        '张104',
        '张105',
      ]);
      expect((await api.ok(`{ directory(code: "D-HOST") { dataVolume } }`)).directory.dataVolume).toBe(6);
    });

    it('stops delivering at once when a grant is revoked or the directory withdrawn', async () => {
      const sub = await api.orm.em
        .fork()
        .getConnection()
        .execute(`select id from subscription_request where requester_id = (select id from department where credit_code = ?) and status = 'GRANTED'`, [FULL]);
      const id = Buffer.from(`SubscriptionRequest:${sub[0].id}`).toString('base64url');
      await steward.P.ok(`mutation($id: ID!) { revokeSubscription(input: { id: $id }) { status } }`, { id });
      const after = await steward.FULL.request(ROWS, { code: 'D-HOST' });
      expect(errorCodes(after)).toEqual(['FORBIDDEN']);
      expect(after.errors![0].message).toContain('revoked');
      await steward.P.ok(`mutation { withdrawDirectory(input: { directory: { code: "D-HOST" } }) { status } }`);
      expect(errorCodes(await steward.PART.request(ROWS, { code: 'D-HOST' }))).toEqual(['CONFLICT']);
      expect((await http(api, '/directories/D-HOST/rows.csv', { token: tokens.P })).status).toBe(409);
      await steward.P.ok(`mutation { publishDirectory(input: { directory: { code: "D-HOST" } }) { status } }`);
    });
  });

  describe('usage', () => {
    it('reads usage of 1 or many directories, departments and regions in the same number of statements', async () => {
      const count = async (first: number) => {
        api.sql.reset();
        await api.ok(
          `{ directories(first: ${first}) { edges { node { usageStats { requests } department { usageStats { requests } consumer: usageStats(side: CONSUMER) { consumers } } } } } region(code: "410500") { usageStats { rowsDelivered } children { usageStats(side: CONSUMER) { rowsDelivered } } } }`,
        );
        return api.sql.count;
      };
      expect(await count(1)).toBe(await count(2));
    });

    it('counts deliveries to other departments on the directory, both departments and the region tree; the log has one entry per request', async () => {
      // Deliveries only append to the log; the server folds them into the figures within a second, this test at once.
      await api.settleUsage();
      const usage = await api.ok(`{
        directory(code: "D-HOST") { usageStats { requests rowsDelivered consumers } }
        provider: department(creditCode: "${P}") { usageStats { requests rowsDelivered consumers } }
        full: department(creditCode: "${FULL}") { usageStats(side: CONSUMER) { requests rowsDelivered consumers } }
        part: department(creditCode: "${PART}") { usageStats(side: CONSUMER) { requests rowsDelivered consumers } }
        yindu: region(code: "410505") { provided: usageStats { requests rowsDelivered consumers } used: usageStats(side: CONSUMER) { requests rowsDelivered consumers } }
        wenfeng: region(code: "410502") { used: usageStats(side: CONSUMER) { requests rowsDelivered consumers } }
        city: region(code: "410500") { provided: usageStats { requests rowsDelivered consumers } used: usageStats(side: CONSUMER) { requests rowsDelivered consumers } }
      }`);
      // FULL: page of 2, CSV 10, NDJSON 10, filtered page 4, two pages of 4, page of 6 = 7 requests, 40 rows.
      // PART: page of 2, CSV 10, NDJSON 10 = 3 requests, 22 rows (refused requests deliver nothing and are not counted).
      const full = { requests: 7, rowsDelivered: 40, consumers: 1 };
      const part = { requests: 3, rowsDelivered: 22, consumers: 1 };
      const total = { requests: 10, rowsDelivered: 62, consumers: 2 };
      expect(usage).toEqual({
        directory: { usageStats: total },
        provider: { usageStats: total },
        full: { usageStats: full },
        part: { usageStats: part },
        yindu: { provided: total, used: full },
        wenfeng: { used: part },
        city: { provided: total, used: total },
      });
      const log = await api.orm.em
        .fork()
        .getConnection()
        .execute(`select route, count(*)::int as n, sum(rows_delivered)::int as rows from dataset_access group by route order by route`);
      // The provider's and the administrator's own reads are logged too (not counted as use).
      expect(log).toEqual([
        { route: 'CSV', n: 4, rows: 40 },
        { route: 'GRAPHQL', n: 8, rows: 26 },
        { route: 'NDJSON', n: 4, rows: 40 },
      ]);
      await expect(api.orm.em.fork().getConnection().execute(`delete from dataset_access`)).rejects.toThrow(/append-only/);
      // A code in a URL is compared upper-case, like every identifier code (GraphQL's input hygiene does it for arguments).
      expect((await http(api, '/directories/d-host/rows.csv', { token: tokens.P })).status).toBe(200);
    });

    it('costs the response cache no statement for a page of rows (never cached): the same statements as with no-cache (after the counts above: these pages add deliveries)', async () => {
      const statements = async (headers: Record<string, string>) => {
        api.sql.reset();
        const response = await steward.P.request(ROWS, { code: 'D-HOST', first: 4 }, headers);
        expect(response.errors).toBeUndefined();
        return api.sql.count;
      };
      await statements({ 'cache-control': 'no-cache' }); // the first read after the writes above loads what later ones reuse
      const uncached = await statements({ 'cache-control': 'no-cache' });
      expect(await statements({})).toBe(uncached);
    });
  });
  // Last: its rows stay in the dataset, which the tests above read row by row.
  describe('compressed bodies', () => {
    it('reads a body sent gzip- or deflate-compressed as the same rows, and refuses one that is not what its encoding says', async () => {
      const before = await recordCount();
      const csv = '姓名,年龄\n周九,33\n吴十,34\n';
      const send = (body: Buffer, encoding: string, contentType = 'text/csv') =>
        http(api, `/mounts/${mountId}/rows`, { method: 'POST', body, contentType, token: tokens.P, headers: { 'content-encoding': encoding } });
      const gzipped = await send(gzipSync(csv), 'gzip');
      expect(gzipped.status).toBe(200);
      expect(gzipped.json()).toMatchObject({ rowsLoaded: 2, recordCount: before + 2 });
      const ndjson = `${JSON.stringify({ 姓名: '郑一' })}\n`;
      expect((await send(deflateSync(ndjson), 'deflate', 'application/x-ndjson')).json()).toMatchObject({ rowsLoaded: 1, recordCount: before + 3 });
      // Refused, nothing stored: plain text called gzip, a gzip stream cut short, an encoding Mulu does not read.
      const refused = [await send(Buffer.from(csv), 'gzip'), await send(gzipSync(csv).subarray(0, 12), 'gzip'), await send(gzipSync(csv), 'br')];
      expect(refused.map((r) => [r.status, r.json().error.code])).toEqual([
        [400, 'BAD_USER_INPUT'],
        [400, 'BAD_USER_INPUT'],
        [415, 'UNSUPPORTED_MEDIA_TYPE'],
      ]);
      expect(refused[0].json().error.message).toContain('content-encoding');
      expect(await recordCount()).toBe(before + 3);
    });

    it('replays a gzipped load by its idempotency key without reading it again, and serves the next request', async () => {
      const before = await recordCount();
      const body = gzipSync(Buffer.concat([Buffer.from('姓名,年龄\n'), Buffer.from(Array.from({ length: 5000 }, (_, i) => `钱${i},${i % 90}\n`).join(''))]));
      const send = (sent = body) =>
        http(api, `/mounts/${mountId}/rows?idempotencyKey=gz-replay`, {
          method: 'POST',
          body: sent,
          contentType: 'text/csv',
          token: tokens.P,
          headers: { 'content-encoding': 'gzip' },
        });
      expect((await send()).json()).toMatchObject({ rowsLoaded: 5000, replayed: false, recordCount: before + 5000 });
      expect((await send()).json()).toMatchObject({ rowsLoaded: 5000, replayed: true, recordCount: before + 5000 });
      // The same rows compressed anew for the retry (as Python's gzip.compress does): gzip's header holds another time.
      const recompressed = Buffer.from(body);
      recompressed.writeUInt32LE(1_700_000_000, 4);
      expect((await send(recompressed)).json()).toMatchObject({ rowsLoaded: 5000, replayed: true, recordCount: before + 5000 });
      expect(await recordCount()).toBe(before + 5000);
    });

    it("compares a replay with its first load after its transaction: a slow replay holds neither the mount's queue nor a connection", async () => {
      const before = await recordCount();
      const csv = '姓名,年龄\n慢1,30\n';
      const path = `/mounts/${mountId}/rows?idempotencyKey=slow-replay`;
      expect((await http(api, path, { method: 'POST', body: csv, contentType: 'text/csv', token: tokens.P })).json()).toMatchObject({
        replayed: false,
        recordCount: before + 1,
      });
      // The retry's body arrives slowly: its first half now, the rest once another load of the mount has been answered.
      const replay = httpRequest(`${baseUrl(api)}${path}`, { method: 'POST', headers: { authorization: `Bearer ${tokens.P}`, 'content-type': 'text/csv' } });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        replay.on('response', (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
        replay.on('error', reject);
      });
      replay.write(csv.slice(0, 8));
      await new Promise((resolve) => setTimeout(resolve, 1500)); // for the replay to reach the comparison, which waits for the rest
      const other = http(api, `/mounts/${mountId}/rows?idempotencyKey=after-slow`, {
        method: 'POST',
        body: '姓名\n慢2\n',
        contentType: 'text/csv',
        token: tokens.P,
      });
      const first = await Promise.race([other.then(() => 'other load'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000))]);
      replay.end(csv.slice(8));
      expect(first).toBe('other load');
      expect((await other).json()).toMatchObject({ replayed: false, recordCount: before + 2 });
      const { status, body } = await answered;
      expect([status, JSON.parse(body)]).toMatchObject([200, { replayed: true, recordCount: before + 1 }]);
      expect(await recordCount()).toBe(before + 2);
    });

    it('refuses a gzip body corrupted after its first rows were read (400), storing none of them', async () => {
      const before = await recordCount();
      const csv = Buffer.from(`姓名,年龄\n${Array.from({ length: 20000 }, (_, i) => `孙${i},${i % 90}`).join('\n')}\n`);
      for (const at of [0.5, 0.98]) {
        const corrupt = Buffer.from(gzipSync(csv));
        const i = Math.floor(corrupt.length * at);
        corrupt[i] ^= 0xff;
        corrupt[i + 1] ^= 0xff;
        const response = await http(api, `/mounts/${mountId}/rows`, {
          method: 'POST',
          body: corrupt,
          contentType: 'text/csv',
          token: tokens.P,
          headers: { 'content-encoding': 'gzip' },
        });
        expect([response.status, response.json().error?.code]).toEqual([400, 'BAD_USER_INPUT']);
      }
      expect(await recordCount()).toBe(before);
    });

    it('refuses a gzipped XLSX body that decodes past the workbook cap (a gzip bomb) with 413, holding no more than the cap', async () => {
      const before = await recordCount();
      const bomb = gzipSync(Buffer.alloc(61 * 1024 * 1024)); // 61 MB of zeros, about 60 KB sent
      const response = await http(api, `/mounts/${mountId}/rows?format=xlsx`, {
        method: 'POST',
        body: bomb,
        token: tokens.P,
        headers: { 'content-encoding': 'gzip' },
      });
      expect([response.status, response.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
      expect(await recordCount()).toBe(before);
    });

    it('refuses an NDJSON line longer than the reader holds (a gzip bomb of one endless line) before it is held whole', async () => {
      const before = await recordCount();
      const send = (body: Buffer) =>
        http(api, `/mounts/${mountId}/rows`, {
          method: 'POST',
          body,
          contentType: 'application/x-ndjson',
          token: tokens.P,
          headers: { 'content-encoding': 'gzip' },
        });
      // 5 MB of one line, about 5 KB gzipped: before, readline held it whole (a few more kilobytes: gigabytes, and the process died).
      const endless = await send(gzipSync(Buffer.concat([Buffer.from('{"姓名":"'), Buffer.alloc(5 * 1024 * 1024, 'a'), Buffer.from('"}\n')])));
      expect([endless.status, endless.json().error?.code]).toEqual([400, 'BAD_USER_INPUT']);
      expect(endless.json().error.message).toContain('longer than 4 MB');
      // Lines under the cap, however many, are read as before.
      const many = Array.from({ length: 3 }, (_, i) => JSON.stringify({ 姓名: `王${i}`, 身份证号: 'x'.repeat(10) })).join('\r\n');
      expect((await send(gzipSync(many))).json()).toMatchObject({ rowsLoaded: 3, recordCount: before + 3 });
    });
  });

  describe('files as stewards send them: load, export, load again', () => {
    it('loads a GBK CSV saved by Excel (declared), exports the same values, loads the export back to the same rows, and filters exactly at the bounds', async () => {
      await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
        input: {
          code: 'D-FILES',
          name: '资源 D-FILES',
          departmentCreditCode: P,
          resourceFormat: 'DATABASE',
          shareType: 'UNCONDITIONAL',
          updateCycle: 'MONTHLY',
          informationItems: [
            { name: '姓名', dataType: '字符型', required: true },
            { name: '证件号', dataType: '字符型' },
            { name: '人数', dataType: '整数型' },
            { name: '金额', dataType: '数值型' },
            { name: '日期', dataType: '日期型' },
            { name: '时间', dataType: '日期时间型' },
            { name: '在册', dataType: '布尔型' },
          ],
        },
      });
      await api.ok(`mutation { publishDirectory(input: { directory: { code: "D-FILES" } }) { status } }`);
      const id = (await mountHosted('D-FILES')).data!.mountDataset.id as string;
      const load = (body: Buffer | string, contentType: string, query = '') =>
        http(api, `/mounts/${id}/rows${query}`, { method: 'POST', body, contentType, token: tokens.P });
      // Excel on Chinese Windows, "CSV (comma delimited)": GBK, CRLF, a header cell padded with an ideographic space, a
      // quoted comma and line break, full-width digits, 年月日 and 2026/1/5 8:30, a row of commas only. The text:
      // "\u3000姓名 ,证件号,人数,金额,日期,时间,在册\r\n"张,三",0914105000000000X1,１２,12345678901234567.89,2026年1月5日,2026/1/5 8:30,是\r\n
      //  ,,,,,,\r\n"李\r\n四",007,3,0.1,2026/1/6,2026-01-06 00:00:00+08:00,否\r\n"
      const gbk = Buffer.from(
        'a1a1d0d5c3fb202cd6a4bcfebac52cc8cbcafd2cbdf0b6ee2cc8d5c6da2ccab1bce42cd4dab2e10d0a22d5c52cc8fd222c3039313431303530303030303030303058312ca3b1a3b22c31323334353637383930313233343536372e38392c32303236c4ea31d4c235c8d52c323032362f312f3520383a33302ccac70d0a2c2c2c2c2c2c0d0a22c0ee0d0acbc4222c3030372c332c302e312c323032362f312f362c323032362d30312d30362030303a30303a30302b30383a30302cb7f10d0a',
        'hex',
      );
      const refused = await load(gbk, 'text/csv; charset=x-mulu-unknown');
      expect([refused.status, refused.json().error.message]).toEqual([
        415,
        'The charset "x-mulu-unknown" is not known; send the file as UTF-8 (in Excel: Save As "CSV UTF-8"), or declare its charset by its standard name (charset=gb18030 for a GBK file).',
      ]);
      const undeclared = await load(gbk, 'text/csv');
      expect([undeclared.status, undeclared.json().error.message]).toEqual([400, expect.stringMatching(/^The header row is not UTF-8 text\./)]);
      const loaded = await load(gbk, 'text/csv; charset=GBK', '?idempotencyKey=gbk-1');
      expect(loaded.json()).toMatchObject({ rowsLoaded: 2, rowsRejected: 0, recordCount: 2, replayed: false });
      // A retry is compared by its text as decoded, and answered.
      expect((await load(gbk, 'text/csv; charset=GBK', '?idempotencyKey=gbk-1')).json()).toMatchObject({ recordCount: 2, replayed: true });

      const csv = await http(api, '/directories/D-FILES/rows.csv', { token: tokens.P });
      expect(csv.body.toString('utf8')).toBe(
        '\uFEFF姓名,证件号,人数,金额,日期,时间,在册\n' +
          '"张,三",0914105000000000X1,12,12345678901234567.89,2026-01-05,2026-01-05T00:30:00.000Z,true\n' +
          '"李\r\n四",007,3,0.1,2026-01-06,2026-01-05T16:00:00.000Z,false\n',
      );
      const ndjson = (await http(api, '/directories/D-FILES/rows.ndjson', { token: tokens.P })).body.toString('utf8');
      expect(JSON.parse(ndjson.split('\n')[0])).toEqual({
        姓名: '张,三',
        证件号: '0914105000000000X1',
        人数: 12,
        金额: '12345678901234567.89',
        日期: '2026-01-05',
        时间: '2026-01-05T00:30:00.000Z',
        在册: true,
      });
      expect((await load(csv.body, 'text/csv', '?mode=replace')).json()).toMatchObject({ version: 2, rowsLoaded: 2, recordCount: 2 });
      expect((await http(api, '/directories/D-FILES/rows.ndjson', { token: tokens.P })).body.toString('utf8')).toBe(ndjson);

      const names = async (filter: unknown[]) =>
        (await steward.P.ok(ROWS, { code: 'D-FILES', first: 10, filter })).directory.rows.edges.map(
          (e: { node: { values: { 姓名: string } } }) => e.node.values.姓名,
        );
      expect(await names([{ item: '金额', gte: '12345678901234567.89' }])).toEqual(['张,三']);
      expect(await names([{ item: '金额', gt: '12345678901234567.89' }])).toEqual([]);
      // Through a binary float, .88 and .89 would be one number.
      expect(await names([{ item: '金额', eq: '12345678901234567.88' }])).toEqual([]);
      expect(await names([{ item: '金额', lte: '0.1' }])).toEqual(['李\r\n四']);
      // No zone: China Standard Time, as when loaded.
      expect(await names([{ item: '时间', lte: '2026/1/5 8:30' }])).toEqual(['张,三']);
      expect(await names([{ item: '时间', lt: '2026-01-05T00:30:00Z' }])).toEqual([]);
      expect(await names([{ item: '时间', gt: '2026-01-05 08:30' }])).toEqual(['李\r\n四']);
      expect(await names([{ item: '日期', gte: '2026年1月6日' }])).toEqual(['李\r\n四']);
      // A filter names an item as a file's header may (padded with an ideographic space): the same item.
      expect(await names([{ item: '\u3000金额 ', lte: '0.1' }])).toEqual(['李\r\n四']);
    });
  });
});

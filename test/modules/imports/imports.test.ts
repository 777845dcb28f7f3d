import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { checkCreditCode } from '../../../src/modules/departments/credit-code';
import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';

const A = '11410505000000007J';
const B = creditCode('410505', 2);
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const csv = (rows: string[][]) =>
  '\uFEFF' + rows.map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n') + '\r\n';

const DIRECTORY_HEADER = [
  '部门统一社会信用代码',
  '目录编码',
  '目录名称',
  '摘要',
  '资源分类',
  '资源格式',
  '共享类型',
  '共享条件',
  '共享方式',
  '是否向社会开放',
  '更新周期',
  '信息项名称',
  '信息项数据类型',
  '信息项描述',
];
const directoriesFile = (name = '低保对象信息') =>
  csv([
    DIRECTORY_HEADER,
    [A, 'MZ-001', name, '城乡低保对象', '主题信息资源/社会保障', '数据库', '有条件共享', '仅用于社会救助审核', '接口调用', '否', '每月', '姓名', '字符型', ''],
    [A, 'MZ-001', '', '', '', '', '', '', '', '', '', '身份证号', '字符型', '18位'],
    [A, 'MZ-002', '养老机构名录', '', '', 'SPREADSHEET', 'UNCONDITIONAL', '', '', '是', 'YEARLY', '机构名称', '字符型', ''],
  ]);

const DIRECTORY = `query($code: String!) { directory(code: $code) { code name status summary classification resourceFormat shareType shareConditions shareMethod openToPublic updateCycle department { creditCode } informationItems { name dataType description } } }`;
const AUDIT = `query($type: String!) { auditEntries(filter: { entityType: $type }, first: 100) { edges { node { action entityId before after } } } }`;

async function auditOf(api: TestServer, type: string) {
  return (await api.ok(AUDIT, { type })).auditEntries.edges.map((e: { node: unknown }) => e.node) as {
    action: string;
    entityId: string;
    before: Record<string, unknown> | null;
    after: Record<string, unknown>;
  }[];
}

async function xlsxOf(rows: string[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('监管事项');
  for (const row of rows) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('bulk import of directories and supervision items', () => {
  let api: TestServer;
  let stewardToken: string;

  beforeAll(async () => {
    expect(checkCreditCode(A).ok).toBe(true);
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    stewardToken = await api.signToken({ role: 'STEWARD', department: A, sub: 'steward-a', name: '民政局管理员' });
  });

  afterAll(() => api.close());

  it('offers templates with a header row and one example row, which import as they are', async () => {
    for (const kind of ['directories', 'supervision-items']) {
      const template = await http(api, `/imports/${kind}/template.csv`, { token: stewardToken });
      expect(template.status).toBe(200);
      const text = template.body.toString('utf8');
      expect(text.startsWith('\uFEFF')).toBe(true);
      const rows = parse(text.slice(1)) as string[][];
      expect(rows).toHaveLength(2);
      expect(rows[0][0]).toBe('部门统一社会信用代码');
      const xlsx = await http(api, `/imports/${kind}/template.xlsx`, { token: stewardToken });
      expect(xlsx.headers.get('content-type')).toBe(XLSX);
      const dry = await http(api, `/imports/${kind}?dryRun=true`, { token: stewardToken, method: 'POST', body: xlsx.body, contentType: XLSX });
      expect(dry.status).toBe(200);
      expect(dry.json()).toMatchObject({ dryRun: true, applied: false, rows: 1, errors: [] });
      expect(dry.json().created).toBeGreaterThan(0);
    }
    expect((await http(api, '/imports/budgets/template.csv')).status).toBe(400);
  });

  it('reports a dry run row by row and writes nothing', async () => {
    const response = await http(api, '/imports/directories?dryRun=true', {
      token: stewardToken,
      method: 'POST',
      body: directoriesFile(),
      contentType: 'text/csv',
    });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({
      kind: 'directories',
      dryRun: true,
      applied: false,
      rows: 3,
      created: 2,
      updated: 0,
      unchanged: 0,
      errors: [],
      results: [
        { row: 2, entity: 'ResourceDirectory', code: 'MZ-001', action: 'CREATE' },
        { row: 3, entity: 'ResourceDirectory', code: 'MZ-001', action: 'CREATE' },
        { row: 4, entity: 'ResourceDirectory', code: 'MZ-002', action: 'CREATE' },
      ],
    });
    expect((await api.ok(DIRECTORY, { code: 'MZ-001' })).directory).toBeNull();
  });

  it('imports directories with their information items, audited, and a second import changes nothing', async () => {
    const response = await http(api, '/imports/directories', { token: stewardToken, method: 'POST', body: directoriesFile(), contentType: 'text/csv' });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ applied: true, created: 2, updated: 0 });
    expect((await api.ok(DIRECTORY, { code: 'MZ-001' })).directory).toEqual({
      code: 'MZ-001',
      name: '低保对象信息',
      status: 'DRAFT',
      summary: '城乡低保对象',
      classification: '主题信息资源/社会保障',
      resourceFormat: 'DATABASE',
      shareType: 'CONDITIONAL',
      shareConditions: '仅用于社会救助审核',
      shareMethod: 'API',
      openToPublic: false,
      updateCycle: 'MONTHLY',
      department: { creditCode: A },
      informationItems: [
        { name: '姓名', dataType: '字符型', description: null },
        { name: '身份证号', dataType: '字符型', description: '18位' },
      ],
    });
    expect((await api.ok(DIRECTORY, { code: 'MZ-002' })).directory).toMatchObject({
      shareType: 'UNCONDITIONAL',
      openToPublic: true,
      updateCycle: 'YEARLY',
      resourceFormat: 'SPREADSHEET',
    });
    const entries = await auditOf(api, 'ResourceDirectory');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ action: 'importDirectories', before: null, after: { status: 'DRAFT', department: expect.any(Number) } });
    expect(await auditOf(api, 'Import')).toMatchObject([{ action: 'importDirectories', after: { kind: 'directories', rows: 3, created: 2 } }]);

    const again = await http(api, '/imports/directories', { token: stewardToken, method: 'POST', body: directoriesFile(), contentType: 'text/csv' });
    expect(again.json()).toMatchObject({ applied: true, created: 0, updated: 0, unchanged: 2 });
    expect(await auditOf(api, 'ResourceDirectory')).toHaveLength(2);

    // Imported directories are ordinary ones: they publish like any other.
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "MZ-001" } }) { status } }`);
    const renamed = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: directoriesFile('城乡低保对象信息'),
      contentType: 'text/csv',
    });
    expect(renamed.json()).toMatchObject({ created: 0, updated: 1, unchanged: 1, results: [{ row: 2, action: 'UPDATE', changed: ['name'] }, {}, {}] });
    const update = (await auditOf(api, 'ResourceDirectory')).find((e) => e.action === 'importDirectories' && e.before);
    expect(update).toMatchObject({ action: 'importDirectories', before: { name: '低保对象信息' }, after: { name: '城乡低保对象信息' } });
    expect(Object.keys(update!.after)).toEqual(['name']);
    expect((await api.ok(DIRECTORY, { code: 'MZ-001' })).directory).toMatchObject({ status: 'PUBLISHED', name: '城乡低保对象信息' });
  });

  it('reports every bad row with its row number, column and reason, and writes nothing', async () => {
    const file = csv([
      DIRECTORY_HEADER,
      [A, 'NEW-1', '新目录', '', '', '数据库', '无条件共享', '', '', '否', '每月', '字段', '字符型', ''],
      ['11410505000000007X', 'NEW-2', '坏代码', '', '', '数据库', '无条件共享', '', '', '否', '每月', '字段', '字符型', ''],
      [A, 'NEW-3', '坏格式', '', '', '纸质', '无条件共享', '', '', '否', '每天', '字段', '', ''],
      [A, 'NEW-4', '缺条件', '', '', '数据库', '有条件共享', '', '', '否', '每月', '字段', '字符型', ''],
      [A, 'NEW-4', '', '', '', '', '', '', '', '', '', '字段', '字符型', ''],
      [B, 'NEW-5', '别人的', '', '', '数据库', '无条件共享', '', '', '否', '每月', '字段', '字符型', ''],
      [A, 'MZ-002', '换个名字', '', '', '数据库', '无条件共享', '', '', '也许', '每年', '字段', '字符型', ''],
      [A, '坏 编码', '名', '', '', '数据库', '无条件共享', '', '', '否', '每月', '字段', '字符型', ''],
    ]);
    const response = await http(api, '/imports/directories', { token: stewardToken, method: 'POST', body: file, contentType: 'text/csv' });
    expect(response.status).toBe(400);
    const body = response.json();
    expect(body.error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('nothing was written') });
    const errors = body.errors.map((e: { row: number; column: string; reason: string }) => [e.row, e.column]);
    expect(errors).toEqual([
      [3, '部门统一社会信用代码 (department_credit_code)'],
      [4, '资源格式 (resource_format)'],
      [4, '更新周期 (update_cycle)'],
      [4, '信息项数据类型 (item_data_type)'],
      [5, '共享条件 (share_conditions)'],
      [6, '信息项名称 (item_name)'],
      [7, '部门统一社会信用代码 (department_credit_code)'],
      [8, '是否向社会开放 (is_open)'.replace('is_open', 'open_to_public')],
      [9, '目录编码 (code)'],
    ]);
    expect(body.errors[0].reason).toContain('check character');
    expect(body.errors[4].reason).toContain('share conditions');
    expect(body.errors[6].reason).toContain('Only a steward of 殷都区教育局');
    expect(body.applied).toBe(false);
    expect((await api.ok(DIRECTORY, { code: 'NEW-1' })).directory).toBeNull();
    // An administrator may import for any department; a code of another department is refused.
    const taken = csv([DIRECTORY_HEADER, [B, 'MZ-002', '抢注', '', '', '数据库', '无条件共享', '', '', '否', '每月', '字段', '字符型', '']]);
    const conflict = await http(api, '/imports/directories', { method: 'POST', body: taken, contentType: 'text/csv' });
    expect(conflict.status).toBe(400);
    expect(conflict.json().errors).toEqual([
      { row: 2, column: '目录编码 (code)', reason: expect.stringContaining('already taken in the catalogue by 殷都区民政局') },
    ]);
  });

  it('reports a CSV row with more cells than the header (an unquoted comma) as a row error, and writes nothing', async () => {
    const raw = (lines: string[]) => Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n', 'utf8');
    const good = `${A},CSV-1,救助对象,,,数据库,无条件共享,,,否,每月,姓名,字符型,`;
    const file = raw([
      DIRECTORY_HEADER.join(','),
      good,
      // "城乡低保,特困人员" was meant as one summary: the comma splits it, every later value moves one column
      // right, and the last one, blank, past the header.
      `${A},CSV-2,救助人员,城乡低保,特困人员,,数据库,无条件共享,,,否,每月,姓名,字符型,`,
      // Two values past the header: 16 cells.
      `${A},CSV-3,救助家庭,,,数据库,无条件共享,,,否,每月,姓名,字符型,说明,多余1,多余2`,
      `${A},CSV-4,救助机构,,,数据库,无条件共享,,,否,每月,名称,字符型,`,
    ]);
    const reason = (cells: number) =>
      `This row has ${cells} cells but the header names 14 columns. A value containing a comma must be enclosed in double quotes ("城乡低保,特困人员"); otherwise delete the extra cells.`;
    for (const dryRun of [true, false]) {
      const response = await http(api, `/imports/directories${dryRun ? '?dryRun=true' : ''}`, {
        token: stewardToken,
        method: 'POST',
        body: file,
        contentType: 'text/csv',
      });
      expect(response.status).toBe(dryRun ? 200 : 400);
      expect(response.json()).toMatchObject({
        applied: false,
        rows: 4,
        errors: [
          { row: 3, column: null, reason: reason(15) },
          { row: 4, column: null, reason: reason(16) },
        ],
      });
      // The other rows are still checked.
      expect(response.json().results.map((r: { row: number; code: string }) => [r.row, r.code])).toEqual([
        [2, 'CSV-1'],
        [5, 'CSV-4'],
      ]);
    }
    for (const code of ['CSV-1', 'CSV-2', 'CSV-3', 'CSV-4']) expect((await api.ok(DIRECTORY, { code })).directory).toBeNull();
    // As a spreadsheet program writes a sheet whose used range is wider than the header: every row
    // (the header too) padded with empty cells. Blank cells past the header are no error.
    const padded = raw([DIRECTORY_HEADER.join(',') + ',,', good + ',,', `${A},CSV-2,救助人员,"城乡低保,特困人员",,数据库,无条件共享,,,否,每月,姓名,字符型,,,`]);
    const fixed = await http(api, '/imports/directories?dryRun=true', { token: stewardToken, method: 'POST', body: padded, contentType: 'text/csv' });
    expect(fixed.json()).toMatchObject({ rows: 2, created: 2, errors: [] });
  });

  it("reports an XLSX row with values beyond the header's columns as a row error, and writes nothing", async () => {
    const header = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
    const body = await xlsxOf([
      header,
      [A, 'X-1', '对殡葬服务的监督检查', '《殡葬管理条例》', 'XS-1', '殡葬服务检查', '行政检查'],
      [A, 'X-2', '对婚姻登记的监督检查', '《婚姻登记条例》', 'XS-2', '婚姻登记检查', '行政检查', '', '备注：待核实'],
    ]);
    const response = await http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body, contentType: XLSX });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      applied: false,
      rows: 2,
      errors: [
        {
          row: 3,
          column: null,
          reason:
            'This row has a value in column I ("备注：待核实"), beyond the 7 columns the header names; put every value under a named column, or delete the extra cells.',
        },
      ],
    });
    const items = await api.ok(`query { department(creditCode: "${A}") { supervisionMainItems(first: 50) { edges { node { code } } } } }`);
    expect(items.department.supervisionMainItems.edges.map((e: { node: { code: string } }) => e.node.code)).not.toContain('X-1');
  });

  it('refuses files it cannot read, viewers and anonymous callers', async () => {
    const viewer = await api.signToken({ role: 'VIEWER' });
    expect((await http(api, '/imports/directories', { token: viewer, method: 'POST', body: directoriesFile(), contentType: 'text/csv' })).status).toBe(403);
    const anonymous = await http(api, '/imports/directories', { token: null, method: 'POST', body: directoriesFile(), contentType: 'text/csv' });
    expect([anonymous.status, anonymous.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const unknownColumn = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: csv([[...DIRECTORY_HEADER, '备注'], []]),
      contentType: 'text/csv',
    });
    expect([unknownColumn.status, unknownColumn.json().error.message]).toEqual([400, expect.stringContaining('Unknown column(s) "备注"')]);
    expect(unknownColumn.json().error.message).not.toMatch(/title/);
    // A title row above the header, as stewards' sheets start: said so, with how to mend the file.
    const titled = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: csv([['殷都区民政局资源目录', '', ''], DIRECTORY_HEADER, []]),
      contentType: 'text/csv',
    });
    expect([titled.status, titled.json().error.message]).toEqual([
      400,
      expect.stringMatching(
        /^Unknown column\(s\) "殷都区民政局资源目录".* this one holds "殷都区民政局资源目录" alone: is it a title above the header\? Delete the rows above the header row/,
      ),
    ]);
    // "殷都" in GBK, as Excel on Chinese Windows saves CSV.
    const gbk = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: Buffer.concat([Buffer.from(DIRECTORY_HEADER.join(',') + '\n'), Buffer.from([0xd2, 0xf3, 0xb6, 0xbc])]),
      contentType: 'text/csv',
    });
    // The words of a dataset load's refusal (core/charset.ts), saying how to declare it too.
    expect([gbk.status, gbk.json().error.message]).toEqual([
      400,
      'The CSV file is not UTF-8 text. Spreadsheet programs on Chinese Windows save CSV as GBK by default: save it as "CSV UTF-8", upload the XLSX workbook, or send a GBK file with the content type text/csv; charset=gb18030.',
    ]);
    const notXlsx = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: Buffer.from('PK\u0003\u0004garbage'),
      contentType: XLSX,
    });
    expect(notXlsx.status).toBe(400);
    expect((await http(api, '/imports/mounts', { token: stewardToken, method: 'POST', body: 'x', contentType: 'text/csv' })).status).toBe(400);
    const tooLarge = await http(api, '/imports/directories', {
      token: stewardToken,
      method: 'POST',
      body: Buffer.alloc(61 * 1024 * 1024, 0x41),
      contentType: 'text/csv',
    });
    expect([tooLarge.status, tooLarge.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const nowhere = await http(api, '/imports/directories/elsewhere', { token: stewardToken });
    expect([nowhere.status, nowhere.json().error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('reads a CSV file in the charset its content type declares, as dataset loads do (GBK, as Excel on Chinese Windows saves it)', async () => {
    // code,name,resource_format,share_type,update_cycle,item_name,item_data_type with 殷都 and 字符型 in GBK bytes.
    const header = Buffer.from(`department_credit_code,code,name,resource_format,share_type,update_cycle,item_name,item_data_type\r\n${A},GBK-001,`);
    const gbk = (hex: string) => Buffer.from(hex, 'hex');
    const body = Buffer.concat([header, gbk('d2f3b6bc'), Buffer.from(',DATABASE,UNCONDITIONAL,YEARLY,ID,'), gbk('d7d6b7fbd0cd'), Buffer.from('\r\n')]);
    const post = (contentType: string, file = body) =>
      http(api, '/imports/directories?dryRun=true', { token: stewardToken, method: 'POST', body: file, contentType });
    const declared = await post('text/csv; charset=GBK');
    expect([declared.status, declared.json().created, declared.json().errors]).toEqual([200, 1, []]);
    const applied = await http(api, '/imports/directories', { token: stewardToken, method: 'POST', body, contentType: 'text/csv; charset=gb18030' });
    expect(applied.status).toBe(200);
    const directory = (await api.ok(DIRECTORY, { code: 'GBK-001' })).directory;
    expect([directory.name, directory.informationItems]).toEqual(['殷都', [{ name: 'ID', dataType: '字符型', description: null }]]);
    // 0xFF starts no GBK character: the file is not what it declares, and is told so.
    const broken = await post('text/csv; charset=gbk', Buffer.concat([body, Buffer.from([0xff])]));
    expect([broken.status, broken.json().error.message]).toEqual([
      400,
      expect.stringMatching(/^The CSV file is not gb18030 text, the charset its content type declares: /),
    ]);
    const unknown = await post('text/csv; charset=x-mulu');
    expect([unknown.status, unknown.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
  });

  it('reads the first visible sheet of an XLSX file, and a code typed as a number formatted "000000000000" as the code it shows', async () => {
    const workbook = new ExcelJS.Workbook();
    // A sheet the steward keeps hidden (old items set aside) before the one they see.
    workbook.addWorksheet('旧事项', { state: 'hidden' }).addRow(['备注']);
    const sheet = workbook.addWorksheet('监管事项');
    sheet.addRow(['部门统一社会信用代码', '主项编码', '主项名称', '设定依据']);
    sheet.addRow([A, 30217001000, '对食品生产经营活动的监督检查', '《食品安全法》']);
    sheet.getCell('B2').numFmt = '000000000000';
    const body = Buffer.from(await workbook.xlsx.writeBuffer());
    const response = await http(api, '/imports/supervision-items?dryRun=true', { token: stewardToken, method: 'POST', body, contentType: XLSX });
    expect([response.status, response.json().errors]).toEqual([200, []]);
    expect(response.json().results.map((r: { entity: string; code: string }) => [r.entity, r.code])).toEqual([['SupervisionMainItem', '030217001000']]);
  });

  it('reads a file as spreadsheet programs save it: columns in another order, a quoted line break, trailing empty lines; a repeated row is named', async () => {
    const order = [...DIRECTORY_HEADER].reverse();
    const row = (cells: Record<string, string>) => order.map((label) => cells[label] ?? '');
    const first = { 部门统一社会信用代码: A, 目录编码: 'MZ-ORDER', 目录名称: '救助对象', 资源格式: '数据库', 共享类型: '无条件共享', 更新周期: '每月' };
    const rows = [
      order,
      row({ ...first, 信息项名称: '姓名', 信息项数据类型: '字符型', 信息项描述: '户主姓名\r\n（身份证上的）' }),
      row({ 部门统一社会信用代码: A, 目录编码: 'MZ-ORDER', 信息项名称: '住址', 信息项数据类型: '字符型' }),
    ];
    const file = (extra: string[][]) => Buffer.from(csv([...rows, ...extra]) + ',,,\r\n\r\n\r\n');
    const read = await http(api, '/imports/directories?dryRun=true', { token: stewardToken, method: 'POST', body: file([]), contentType: 'text/csv' });
    expect([read.status, read.json().rows, read.json().created, read.json().errors]).toEqual([200, 2, 1, []]);
    const applied = await http(api, '/imports/directories', { token: stewardToken, method: 'POST', body: file([]), contentType: 'text/csv' });
    expect(applied.status).toBe(200);
    expect((await api.ok(DIRECTORY, { code: 'MZ-ORDER' })).directory.informationItems).toEqual([
      { name: '姓名', dataType: '字符型', description: '户主姓名\n（身份证上的）' },
      { name: '住址', dataType: '字符型', description: null },
    ]);
    // The same row twice (pasted again): refused, naming the row it repeats, rather than read as one item or two.
    const repeated = await http(api, '/imports/directories?dryRun=true', {
      token: stewardToken,
      method: 'POST',
      body: file([rows[2]]),
      contentType: 'text/csv',
    });
    expect(repeated.json().errors).toEqual([
      {
        row: 4,
        column: '信息项名称 (item_name)',
        reason: 'Information item "住址" of directory MZ-ORDER is already on row 3; names must be unique within a directory.',
      },
    ]);
  });

  it("refuses supervision items from viewers, anonymous callers and bad tokens, and a steward's rows of another department", async () => {
    const header = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
    const file = csv([header, [A, 'PERM-M1', '对养老机构的监督检查', '《养老机构管理办法》', 'PERM-S1', '养老机构日常检查', '行政检查']]);
    const post = (token: string | null, body = file) => http(api, '/imports/supervision-items', { token, method: 'POST', body, contentType: 'text/csv' });
    const viewer = await post(await api.signToken({ role: 'VIEWER' }));
    expect([viewer.status, viewer.json().error.code]).toEqual([403, 'FORBIDDEN']);
    const anonymous = await post(null);
    expect([anonymous.status, anonymous.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const garbage = await post('not.a.jwt');
    expect([garbage.status, garbage.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    const expired = await post(await api.signToken({ role: 'ADMIN' }, { expiresIn: Math.floor(Date.now() / 1000) - 300 }));
    expect([expired.status, expired.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);

    // A's steward, with a row of A and two rows (one main item) of B: B's are row errors, and then nothing is written, A's row neither.
    const mixed = csv([
      header,
      [A, 'PERM-M1', '对养老机构的监督检查', '《养老机构管理办法》', 'PERM-S1', '养老机构日常检查', '行政检查'],
      [B, 'PERM-M2', '对学校的监督检查', '《教育法》', 'PERM-S2', '学校安全检查', '行政检查'],
      [B, 'PERM-M2', '', '', 'PERM-S3', '学校违法行为处罚', '行政处罚'],
    ]);
    const response = await post(stewardToken, mixed);
    expect(response.status).toBe(400);
    const body = response.json();
    expect(body).toMatchObject({ applied: false, error: { code: 'BAD_USER_INPUT', message: expect.stringContaining('nothing was written') } });
    // B's main item is refused on its first row (as a directory on its first row); A's row has no error of its own.
    expect(body.errors[0]).toEqual({
      row: 3,
      column: '部门统一社会信用代码 (department_credit_code)',
      reason: expect.stringContaining('Only a steward of 殷都区教育局'),
    });
    for (const error of body.errors as { row: number; reason: string }[]) {
      expect([3, 4]).toContain(error.row);
      expect(error.reason).toContain('殷都区教育局');
    }
    const items = `query($c: String!) { department(creditCode: $c) { supervisionStats { mainItems subItems } supervisionMainItems(first: 50) { edges { node { code } } } } }`;
    for (const code of [A, B]) {
      const department = (await api.ok(items, { c: code })).department;
      expect(department.supervisionMainItems.edges.map((e: { node: { code: string } }) => e.node.code)).not.toContain('PERM-M1');
      expect(department.supervisionMainItems.edges.map((e: { node: { code: string } }) => e.node.code)).not.toContain('PERM-M2');
    }
    expect(await auditOf(api, 'SupervisionMainItem')).toEqual([]);
  });

  it('imports supervision main items and sub-items from XLSX, idempotently, moving a sub-item when the file says so', async () => {
    const header = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
    const rows = (moved = false) => [
      header,
      [A, 'M-1', '对养老机构的监督检查', '《养老机构管理办法》', 'S-1', '养老机构日常检查', '行政检查'],
      ...(moved ? [] : [[A, 'M-1', '', '', 'S-2', '养老机构违法行为处罚', 'PENALTY']]),
      [A, 'M-2', '对社会组织的监督检查', '《社会团体登记管理条例》', 'S-3', '社会组织年检', 'INSPECTION'],
      ...(moved ? [[A, 'M-2', '', '', 'S-2', '养老机构违法行为处罚', '行政处罚']] : []),
      [A, 'M-3', '对慈善组织的监督检查', '《慈善法》', '', '', ''],
    ];
    const first = await http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body: await xlsxOf(rows()), contentType: XLSX });
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({ applied: true, rows: 4, created: 6, updated: 0, errors: [] });
    const stats = `query { department(creditCode: "${A}") { supervisionStats { mainItems subItems byCategory { category subItems } } supervisionMainItems(first: 10) { edges { node { code subItems { code category } } } } } }`;
    const data = (await api.ok(stats)).department;
    expect(data.supervisionStats).toMatchObject({
      mainItems: 3,
      subItems: 3,
      byCategory: [{ subItems: 2 }, { subItems: 1 }, { subItems: 0 }, { subItems: 0 }],
    });
    const again = await http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body: await xlsxOf(rows()), contentType: XLSX });
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
    const moved = await http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body: await xlsxOf(rows(true)), contentType: XLSX });
    expect(moved.json()).toMatchObject({ created: 0, updated: 1, unchanged: 5 });
    expect(moved.json().results.find((r: { action: string }) => r.action === 'UPDATE')).toMatchObject({
      row: 4,
      entity: 'SupervisionSubItem',
      code: 'S-2',
      changed: ['mainItem'],
    });
    const after = (await api.ok(stats)).department.supervisionMainItems.edges.map((e: { node: { code: string; subItems: { code: string }[] } }) => [
      e.node.code,
      e.node.subItems.map((s) => s.code),
    ]);
    expect(after).toEqual([
      ['M-1', ['S-1']],
      ['M-2', ['S-2', 'S-3']],
      ['M-3', []],
    ]);
    const audit = await auditOf(api, 'SupervisionSubItem');
    expect(audit).toHaveLength(4);
    expect(audit.find((e) => e.before)).toMatchObject({
      action: 'importSupervisionItems',
      before: { mainItem: expect.any(Number) },
      after: { mainItem: expect.any(Number) },
    });

    const bad = await http(api, '/imports/supervision-items', {
      token: stewardToken,
      method: 'POST',
      body: await xlsxOf([
        header,
        [A, 'M-9', '新主项', '依据', 'S-9', '新子项', '行政许可'],
        [A, 'M-9', '另一个名字', '', 'S-9', '重复', '行政检查'],
        [A, '', '', '', '', '', ''],
      ]),
      contentType: XLSX,
    });
    expect(bad.status).toBe(400);
    expect(bad.json().errors.map((e: { row: number; column: string }) => [e.row, e.column])).toEqual([
      [2, '子项类别 (category)'],
      [3, '主项名称 (main_item_name)'],
      [3, '子项编码 (sub_item_code)'],
      [4, '主项编码 (main_item_code)'],
    ]);
  });

  it('reads a category written 其它, with spaces or in full-width characters as the category it names', async () => {
    const header = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
    const file = csv([
      header,
      [A, 'V-1', '对殡葬服务的监督', '《殡葬管理条例》', 'V-S1', '其他监管', '其它'],
      [A, 'V-1', '', '', 'V-S2', '殡葬服务检查', ' 行政 检查 '],
      [A, 'V-1', '', '', 'V-S3', '殡葬违法处罚', 'ＰＥＮＡＬＴＹ'],
      [A, 'V-1', '', '', 'V-S4', '查封殡葬设施', '行政强制'],
    ]);
    const response = await http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body: file, contentType: 'text/csv' });
    expect([response.status, response.json().errors]).toEqual([200, []]);
    const items = (
      await api.ok(`query { department(creditCode: "${A}") { supervisionMainItems(first: 50) { edges { node { code subItems { code category } } } } } }`)
    ).department.supervisionMainItems.edges;
    expect(items.find((e: { node: { code: string } }) => e.node.code === 'V-1').node.subItems).toEqual([
      { code: 'V-S1', category: 'OTHER' },
      { code: 'V-S2', category: 'INSPECTION' },
      { code: 'V-S3', category: 'PENALTY' },
      { code: 'V-S4', category: 'COERCION' },
    ]);
  });

  it('keeps supervision item codes as GraphQL does: full-width folded, upper-cased', async () => {
    const header = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
    const post = (rows: string[][]) =>
      http(api, '/imports/supervision-items', { token: stewardToken, method: 'POST', body: csv([header, ...rows]), contentType: 'text/csv' });
    // Typed with a Chinese input method in full-width mode: the same code as case-m1 (identifierCode).
    const fullWidth = await post([[A, 'ＣＡＳＥ－Ｍ１', '对餐饮单位的监督检查', '《食品安全法》', 'case-s1', '餐饮日常检查', '行政检查']]);
    expect(fullWidth.json()).toMatchObject({ applied: true, created: 2, errors: [] });
    const imported = await post([[A, 'case-m1', '对餐饮单位的监督检查', '《食品安全法》', 'case-s1', '餐饮日常检查', '行政检查']]);
    expect(imported.json()).toMatchObject({ applied: true, created: 0, unchanged: 2, errors: [] });
    // GraphQL names the imported items in any case, and a second item in another case is the same code.
    const sub = await api.ok(
      `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${A}", mainItemCode: "case-m1", code: "case-s2", name: "餐饮违法行为处罚", category: PENALTY }) { code mainItem { code } } }`,
    );
    expect(sub.createSupervisionSubItem).toEqual({ code: 'CASE-S2', mainItem: { code: 'CASE-M1' } });
    const again = await api.request(
      `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${A}", mainItemCode: "CASE-M1", code: "CASE-S1", name: "x", category: OTHER }) { code } }`,
    );
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
  });
});

import { Migration20261201180000 } from '../../../migrations/Migration20261201180000';
import { addDirectory, createDepartment, creditCode, HENAN_ANYANG_YINDU, createRegions } from '../../support/builders';
import { http } from '../../support/http';
import { createMainItems, createSubItems, ingest, records } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A main or sub-item code is one code however it is typed, on every path
 * (src/core/text.ts identifierCode): upper-cased, full-width folded, 〇
 * made 0, trimmed. Before, the mutations upper-cased a code while the import file
 * and record batches kept it as typed, so records sent for a sub-item
 * under the code its steward registered were refused as "no sub-item", its
 * coverage stayed 0, and a code typed two ways made two items.
 */
describe('main and sub-item codes, however they are typed', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const HEADER = '部门统一社会信用代码,主项编码,主项名称,设定依据,子项编码,子项名称,子项类别';
  const importItems = (lines: string[]) =>
    http(api, '/imports/supervision-items', { method: 'POST', body: `\uFEFF${[HEADER, ...lines].join('\r\n')}\r\n`, contentType: 'text/csv' });

  const figuresOf = async (code: string) =>
    (
      await api.ok<{
        department: { supervisionStats: Record<string, number>; supervisionMainItems: { edges: { node: { code: string; subItems: { code: string }[] } }[] } };
      }>(
        `query($c: String!) { department(creditCode: $c) {
           supervisionStats { mainItems coveredMainItems subItems coveredSubItems records }
           supervisionMainItems(first: 50) { edges { node { code subItems { code } } } } } }`,
        { c: code },
      )
    ).department;
  const codesOf = (department: Awaited<ReturnType<typeof figuresOf>>) =>
    department.supervisionMainItems.edges.map((e) => [e.node.code, e.node.subItems.map((s) => s.code)]);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '区市场监管局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '区司法局', regionCode: '410505' });
  });

  afterAll(() => api.close());

  it('counts records sent with the code as the steward typed it, lower-case, full-width or with 〇 for 0, for a sub-item registered through GraphQL', async () => {
    await createMainItems(api, A, [{ code: 'jc-m1' }]);
    await createSubItems(api, A, [{ code: 'jc-s1', mainItemCode: 'jc-m1', category: 'INSPECTION' }]);
    expect(await ingest(api, A, records('jc-s1', 2, 'lower'))).toMatchObject({ accepted: 2, rejected: [] });
    expect(await ingest(api, A, records('ＪＣ－Ｓ１', 1, 'wide'))).toMatchObject({ accepted: 1, rejected: [] });
    await createSubItems(api, A, [{ code: '33〇217001', mainItemCode: 'JC-M1', category: 'PENALTY' }]);
    expect(await ingest(api, A, records('330217001', 1, 'zero'))).toMatchObject({ accepted: 1, rejected: [] });
    const department = await figuresOf(A);
    expect(department.supervisionStats).toEqual({ mainItems: 1, coveredMainItems: 1, subItems: 2, coveredSubItems: 2, records: 4 });
    expect(codesOf(department)).toEqual([['JC-M1', ['JC-S1', '330217001']]]);
  });

  it('keeps imported codes as the mutations do: records reach them, a second spelling is the same item, the same file again changes nothing', async () => {
    const file = [
      `${B},zf-m1,对律师事务所的监督检查,《律师法》,zf-s1,律师事务所检查,行政检查`,
      `${B},３３０２１７,对公证机构的监督检查,《公证法》,３３０２１７００１,公证机构检查,行政处罚`,
    ];
    const first = await importItems(file);
    expect(first.json()).toMatchObject({ applied: true, created: 4, errors: [] });
    expect(codesOf(await figuresOf(B))).toEqual([
      ['ZF-M1', ['ZF-S1']],
      ['330217', ['330217001']],
    ]);
    expect(await ingest(api, B, [...records('zf-s1', 2, 'zf'), ...records('330217001', 1, 'gz')])).toMatchObject({ accepted: 3, rejected: [] });
    expect((await importItems(file)).json()).toMatchObject({ applied: true, created: 0, updated: 0, unchanged: 4 });
    expect((await importItems([`${B},ZF-M1,对律师事务所的监督检查,《律师法》,ＺＦ－Ｓ１,律师事务所检查,行政检查`])).json()).toMatchObject({
      created: 0,
      unchanged: 2,
    });
    const taken = await api.request(
      `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${B}", mainItemCode: "zf-m1", code: "zf-s1", name: "律师事务所检查", category: INSPECTION }) { code } }`,
    );
    expect(taken.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await figuresOf(B)).supervisionStats).toEqual({ mainItems: 2, coveredMainItems: 2, subItems: 2, coveredSubItems: 2, records: 3 });
  });

  it('folds a full-width directory code in an import file as GraphQL does', async () => {
    await addDirectory(api, A, 'mz-001', { publish: false });
    const header = '部门统一社会信用代码,目录编码,目录名称,资源格式,共享类型,更新周期,信息项名称,信息项数据类型';
    const body = `\uFEFF${header}\r\n${A},ＭＺ－００１,资源 mz-001,数据库,无条件共享,每月,名称,字符型\r\n`;
    const response = await http(api, '/imports/directories', { method: 'POST', body, contentType: 'text/csv' });
    expect(response.json()).toMatchObject({ applied: true, created: 0, errors: [], results: [{ code: 'MZ-001' }] });
  });

  it('finds an item registered before codes were refused a space inside by its code on every path, and refuses such a code only for a new item', async () => {
    const department = creditCode('410505', 4);
    await createDepartment(api, { creditCode: department, name: '区应急管理局', regionCode: '410505' });
    await createMainItems(api, department, [{ code: 'YJ-M1' }, { code: 'YJ-M2' }]);
    await createSubItems(api, department, [{ code: 'YJ-S1', mainItemCode: 'YJ-M1', category: 'INSPECTION' }]);
    // As GraphQL stored them before (upper-cased and trimmed only).
    const connection = api.orm.em.getConnection();
    const id = `(select id from department where credit_code = '${department}')`;
    await connection.execute(`update supervision_main_item set code = 'YJ M1' where code = 'YJ-M1' and department_id = ${id}`);
    await connection.execute(`update supervision_sub_item set code = 'YJ S1' where code = 'YJ-S1' and department_id = ${id}`);
    expect(await ingest(api, department, records('yj s1', 1, 'yj'))).toMatchObject({ accepted: 1, rejected: [] });
    await createSubItems(api, department, [{ code: 'YJ-S2', mainItemCode: 'yj m1', category: 'PENALTY' }]);
    const moved = await api.ok<{ moveSupervisionSubItem: { mainItem: { code: string } } }>(
      `mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${department}", subItemCode: "yj s1", toMainItemCode: "YJ-M2" }) { mainItem { code } } }`,
    );
    expect(moved.moveSupervisionSubItem.mainItem.code).toBe('YJ-M2');
    expect((await importItems([`${department},YJ M1,主项 YJ-M1,《中华人民共和国行政处罚法》,YJ-S3,检查,行政检查`])).json()).toMatchObject({
      applied: true,
      created: 1,
      errors: [],
    });
    const refused = (await importItems([`${department},YJ M9,新主项,《中华人民共和国行政处罚法》,YJ S9,新子项,行政检查`])).json();
    expect(refused).toMatchObject({ applied: false });
    expect(refused.errors.map((e: { column: string; reason: string }) => [e.column, e.reason])).toEqual([
      ['主项编码 (main_item_code)', '"YJ M9" is not a valid main item code: a code holds no space, line break or invisible character.'],
      ['子项编码 (sub_item_code)', '"YJ S9" is not a valid sub-item code: a code holds no space, line break or invisible character.'],
    ]);
    expect(codesOf(await figuresOf(department))).toEqual([
      ['YJ M1', ['YJ-S2', 'YJ-S3']],
      ['YJ-M2', ['YJ S1']],
    ]);
  });

  it('brings the codes already stored to that form, except one whose new form another item of its department has', async () => {
    const department = creditCode('410505', 3);
    await createDepartment(api, { creditCode: department, name: '区文广体旅局', regionCode: '410505' });
    await createMainItems(api, department, [{ code: 'WL-M1' }, { code: 'WL-M02' }]);
    const connection = api.orm.em.getConnection();
    // As the import stored them before: a code as typed, and one typed as another item's code.
    await connection.execute(
      `update supervision_main_item set code = case code when 'WL-M1' then 'wl-m1' else 'ｗｌ－ｍ〇２' end where department_id = (select id from department where credit_code = ?)`,
      [department],
    );
    await connection.execute(
      `insert into supervision_main_item (department_id, code, name, legal_basis, created_at, updated_at)
       select department_id, 'WL-M1', name, legal_basis, created_at, updated_at from supervision_main_item where code = 'wl-m1'`,
    );
    // As the import kept them too (String.trim): a zero-width space after the code, and a code upper-cased by
    // JavaScript's rule, not the database's (upper('ß') is ß under the C.UTF-8 and C locales).
    await createMainItems(api, department, [{ code: 'WL-M3' }, { code: 'WL-M4' }]);
    await connection.execute(
      `update supervision_main_item set code = case code when 'WL-M3' then 'wl-m3\u200B' else 'wl-straße' end where code in ('WL-M3', 'WL-M4')`,
    );
    const migration = new Migration20261201180000(api.orm.em.getDriver(), api.orm.config);
    await migration.up();
    for (const query of migration.getQueries()) await connection.execute(String(query));
    expect(codesOf(await figuresOf(department)).map(([code]) => code)).toEqual(['wl-m1', 'WL-M02', 'WL-M1', 'WL-M3', 'WL-STRASSE']);
  });
});

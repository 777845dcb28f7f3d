import type { Client } from 'pg';
import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { http } from '../../support/http';
import { finishesOrWaits, openConnection } from '../../support/locks';
import { createMainItems, createSubItems, ingest, records } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const HEADER = ['部门统一社会信用代码', '主项编码', '主项名称', '设定依据', '子项编码', '子项名称', '子项类别'];
const csv = (rows: string[][]) => '\uFEFF' + rows.map((r) => r.join(',')).join('\r\n') + '\r\n';

/**
 * An ingestion inserts records before it locks the sub-items' counters: from
 * its insert to its commit it holds key-share locks (through the records'
 * foreign key) on every sub-item of its batch, in the order of the records'
 * keys. The supervision import and moveSupervisionSubItem change sub-items
 * (and main items) but none of their key columns, so they must lock them
 * `for no key update`, which does not conflict with key-share locks; with
 * `for update` they would wait for the ingestion, and an ingestion inserting
 * into a sub-item the import had already locked would wait for the import: a
 * deadlock. Here a connection holds an ingestion's insert open (the window
 * between its insert and its counter update) while the import and the move
 * run; both must finish without waiting for it, and the ingestion must then
 * finish too.
 */
describe('supervision items changed while records arrive', () => {
  let api: TestServer;
  let holder: Client & { pid: number };
  let observer: Client;
  const dept = creditCode('410505', 1);
  let departmentId: number;
  const subItemId = async (code: string) =>
    Number((await observer.query(`select id from supervision_sub_item where department_id = $1 and code = $2`, [departmentId, code])).rows[0].id);

  const subItem = async (code: string) => {
    const data = await api.ok<{
      department: {
        supervisionMainItems: { edges: { node: { code: string; name: string; subItems: { code: string; name: string; recordCount: number }[] } }[] };
      };
    }>(
      `query($c: String!) { department(creditCode: $c) { supervisionMainItems(first: 50) { edges { node { code name subItems { code name recordCount } } } } } }`,
      { c: dept },
    );
    for (const { node } of data.department.supervisionMainItems.edges) {
      const found = node.subItems.find((s) => s.code === code);
      if (found) return { mainItem: node.code, mainItemName: node.name, ...found };
    }
    return null;
  };

  /** The first statement of an ingestion, in a transaction left open: its key-share locks stay held. */
  const holdIngestionInsert = async (subItemCode: string, externalId: string) => {
    await holder.query('begin');
    await holder.query(`insert into supervision_record (department_id, sub_item_id, source, external_id, occurred_at) values ($1, $2, 'zhifa', $3, now())`, [
      departmentId,
      await subItemId(subItemCode),
      externalId,
    ]);
  };
  /** The rest of that ingestion: the counter, locked `for no key update` as the service does, then commit. */
  const finishIngestion = async (subItemCode: string) => {
    const id = await subItemId(subItemCode);
    await holder.query(`select id from supervision_sub_item where id = $1 for no key update`, [id]);
    await holder.query(`update supervision_sub_item set record_count = record_count + 1 where id = $1`, [id]);
    await holder.query('commit');
  };

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '区市场监管局', regionCode: '410505' });
    await createMainItems(api, dept, [{ code: 'M1' }, { code: 'M2' }]);
    await createSubItems(api, dept, [
      { code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' },
      { code: 'S2', mainItemCode: 'M1', category: 'PENALTY' },
    ]);
    holder = await openConnection(api);
    observer = await openConnection(api);
    departmentId = Number((await observer.query(`select id from department where credit_code = $1`, [dept])).rows[0].id);
  });

  afterAll(async () => {
    await holder?.end();
    await observer?.end();
    await api?.close();
  });

  afterEach(async () => {
    // A failed test may leave the held transaction open; end it so nothing else waits on it.
    await holder.query('rollback');
  });

  it('lets the import rename and move a sub-item, and rename its main item, while an ingestion into it is open', async () => {
    await holdIngestionInsert('S1', 'during-import');
    const file = csv([
      HEADER,
      [dept, 'M1', '主项 M1 改名', '《行政处罚法》', 'S2', '子项 S2', 'PENALTY'],
      [dept, 'M2', '主项 M2', '《行政处罚法》', 'S1', '子项 S1 改名', 'INSPECTION'],
    ]);
    const importing = http(api, '/imports/supervision-items', { method: 'POST', body: file, contentType: 'text/csv' });
    const outcome = await finishesOrWaits(observer, importing);
    if (outcome === 'waits') await holder.query('rollback');
    expect(outcome).toBe('done');
    const response = await importing;
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ applied: true, created: 0, updated: 3 });

    await finishIngestion('S1');
    expect(await subItem('S1')).toMatchObject({ mainItem: 'M2', name: '子项 S1 改名', recordCount: 1 });
    expect(await subItem('S2')).toMatchObject({ mainItem: 'M1', mainItemName: '主项 M1 改名' });
  });

  it('lets moveSupervisionSubItem move a sub-item while an ingestion into it is open', async () => {
    await holdIngestionInsert('S1', 'during-move');
    const moving = api.request(
      `mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${dept}", subItemCode: "S1", toMainItemCode: "M1" }) { code mainItem { code } } }`,
    );
    const outcome = await finishesOrWaits(observer, moving);
    if (outcome === 'waits') await holder.query('rollback');
    expect(outcome).toBe('done');
    expect((await moving).data).toEqual({ moveSupervisionSubItem: { code: 'S1', mainItem: { code: 'M1' } } });

    await finishIngestion('S1');
    expect(await subItem('S1')).toMatchObject({ mainItem: 'M1', recordCount: 2 });
  });

  it('still counts ingestions through the service afterwards, with coverage following the moves', async () => {
    expect(await ingest(api, dept, records('S2', 2))).toMatchObject({ accepted: 2, stored: true });
    expect(await subItem('S2')).toMatchObject({ mainItem: 'M1', recordCount: 2 });
  });
});

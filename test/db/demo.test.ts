import type { MikroORM } from '@mikro-orm/postgresql';
import { loadDemoIfEmpty } from '../../src/db/demo-seed';
import { createTestDatabase, migratedOrm } from '../support/database';

/** `npm start` loads this demo into an empty database: it must hold the report's figures. */
describe('the demo dataset', () => {
  let orm: MikroORM;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    orm = await migratedOrm(database.url);
  });
  afterAll(async () => {
    await orm.close(true);
    await drop();
  });

  it('loads once, with the figures of both appendix tables', async () => {
    expect(await loadDemoIfEmpty(orm)).toBe(true);
    expect(await loadDemoIfEmpty(orm)).toBe(false);
    const conn = orm.em.getConnection();
    const [hr] = await conn.execute(
      `select f.published_directories, f.mounted_directories, f.data_volume from department_figures f join department d on d.id = f.department_id where d.name = '殷都区人社局'`,
    );
    expect(hr).toEqual({ published_directories: 15, mounted_directories: 14, data_volume: '579894' });
    const [health] = await conn.execute(
      `select f.main_items, f.covered_main_items, f.inspection_items + f.penalty_items + f.coercion_items + f.other_items as sub_items,
              f.inspection_covered + f.penalty_covered + f.coercion_covered + f.other_covered as covered, f.penalty_records
         from department_figures f join department d on d.id = f.department_id where d.name = '区卫健委'`,
    );
    // 区卫健委: 29 main items, 26 covered; 379 sub-items, 345 covered (91.03%); 168 penalty records.
    expect(health).toEqual({ main_items: 29, covered_main_items: 26, sub_items: 379, covered: 345, penalty_records: '168' });
    // Data sharing: the justice bureau's 27 records, 10 of them rows held by Mulu; a grant restricted to two items; counted deliveries.
    const [justice] = await conn.execute(
      `select f.mounted_directories, f.data_volume, f.usage_requests_provided, f.usage_rows_provided, f.usage_consumers from department_figures f join department d on d.id = f.department_id where d.name = '殷都区司法局'`,
    );
    expect(justice).toEqual({ mounted_directories: 6, data_volume: '27', usage_requests_provided: '3', usage_rows_provided: '12', usage_consumers: 2 });
    expect(await conn.execute(`select count(*)::int as rows from dataset_row`)).toEqual([{ rows: 10 }]);
    expect(await conn.execute(`select granted_items from subscription_request where granted_items is not null`)).toEqual([
      { granted_items: ['名称', '更新日期'] },
    ]);
  }, 900_000);
});

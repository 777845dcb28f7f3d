import { departmentFiguresService } from '../../../src/modules/stats/department-figures.service';
import { createRegions } from '../../support/builders';
import { expectCountsEqualFigures, figuresAndCounts } from '../../support/drill-down';
import { startTestServer, type TestServer } from '../../support/test-server';

describe('drill-down lists behind the figures', () => {
  let api: TestServer;
  const DISTRICTS = ['410505', '410502', '420102', '420103', '420202', '420203'];
  const REGIONS = ['410000', '410500', '420000', '420100', '420200', ...DISTRICTS];

  /**
   * Generated data: departments with directories in every state (drafts,
   * published with and without mounts, some refreshed long ago so stale)
   * and supervision items with and without records, in every category.
   */
  async function fillDistrict(regionCode: string, departments: number): Promise<void> {
    const conn = api.orm.em.getConnection();
    await conn.execute(
      `with deps as (
         insert into department (credit_code, name, region_code)
         select 'X' || ? || lpad(n::text, 11, '0'), '部门' || n, ? from generate_series(1, ?) n
         returning id)
       insert into resource_directory (code, name, department_id, resource_format, information_items, share_type, update_cycle, status, active_mount_count, data_volume, last_refreshed_at)
       select ? || '-' || deps.id || '-' || k, '资源' || k, deps.id, 'DATABASE', '[]', 'UNCONDITIONAL', 'MONTHLY',
              (case when k % 5 = 0 then 'DRAFT' else 'PUBLISHED' end)::directory_status,
              (k + deps.id) % 3 % 2, ((k + deps.id) % 3 % 2) * 10,
              case when (k + deps.id) % 3 % 2 = 0 then null when k % 4 = 0 then now() - interval '400 days' else now() end
       from deps, generate_series(1, 7) k`,
      [regionCode, regionCode, departments, regionCode],
    );
    await conn.execute(
      `insert into supervision_main_item (department_id, code, name, legal_basis)
       select d.id, 'M' || k, '主项' || k, '依据' from department d, generate_series(1, 3) k where d.region_code = ?`,
      [regionCode],
    );
    await conn.execute(
      `insert into supervision_sub_item (department_id, main_item_id, code, name, category, record_count)
       select m.department_id, m.id, m.code || '-' || k, '子项' || k,
              (array['INSPECTION', 'PENALTY', 'COERCION', 'OTHER'])[1 + (k + m.id) % 4]::supervision_category,
              case when m.code = 'M3' or (k + m.id) % 3 = 0 then 0 else k end
         from supervision_main_item m join department d on d.id = m.department_id, generate_series(1, 4) k
        where d.region_code = ?`,
      [regionCode],
    );
  }

  beforeAll(async () => {
    // The cache off: the budget counts the statements of computing an answer.
    // The statement-count probe nests regions, departments and lists deeper than the default cost limit allows
    // (its worst case is 40 x 40 x 40 departments); this file measures statements, query-cost.test.ts the limit.
    api = await startTestServer({ responseCacheBytes: 0, maxQueryCost: 100_000_000 });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
      { code: '410502', name: '文峰区' },
      { code: '420000', name: '湖北省' },
      { code: '420100', name: '武汉市' },
      { code: '420102', name: '江岸区' },
      { code: '420103', name: '江汉区' },
      { code: '420200', name: '黄石市' },
      { code: '420202', name: '黄石港区' },
      { code: '420203', name: '西塞山区' },
    ]);
    const sizes = [3, 40, 5, 6, 7, 8];
    for (const [i, code] of DISTRICTS.entries()) await fillDistrict(code, sizes[i]);
    // Bulk SQL bypassed the services: bring the figures in line, as the benchmark generator does.
    await departmentFiguresService.rebuildAll(api.orm.em.fork());
  });
  afterAll(() => api.close());

  it('gives every list a totalCount equal to the figure it explains, for every region at any depth and every department', async () => {
    const units = await figuresAndCounts(api, REGIONS);
    expect(units.length).toBe(REGIONS.length + 3 + 40 + 5 + 6 + 7 + 8);
    let compared = 0;
    for (const unit of units) compared += expectCountsEqualFigures(unit);
    expect(compared).toBe(units.length * 18);
    // The data is not trivial: each kind of list has members and non-members.
    const province = units.find((u) => u.code === '410000');
    expect(province.unmounted.totalCount).toBeGreaterThan(0);
    expect(province.stale.totalCount).toBeGreaterThan(0);
    expect(province.uncoveredMainItems.totalCount).toBeGreaterThan(0);
    expect(province.coveredSubItems.totalCount).toBeGreaterThan(0);
    expect(province.uncoveredSubItems.totalCount).toBeGreaterThan(0);
  });

  it('pages through a list to exactly totalCount items, each matching the filter, none twice', async () => {
    const seen = new Set<string>();
    let after: string | null = null;
    let total = 0;
    do {
      const data: any = await api.ok(
        `query($after: String) { region(code: "410000") { directories(filter: { mounted: false }, first: 7, after: $after) {
           totalCount pageInfo { hasNextPage endCursor } edges { node { code status mounted department { region { code } } } } } } }`,
        { after },
      );
      const page = data.region.directories;
      total = page.totalCount;
      for (const { node } of page.edges) {
        expect(node).toMatchObject({ status: 'PUBLISHED', mounted: false });
        expect(['410505', '410502']).toContain(node.department.region.code);
        expect(seen.has(node.code)).toBe(false);
        seen.add(node.code);
      }
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen.size).toBe(total);
    expect(total).toBeGreaterThan(7);

    const subItems = await api.ok(`{ region(code: "420100") { supervisionSubItems(filter: { covered: false, category: PENALTY }, first: 200) {
      totalCount edges { node { category covered recordCount department { region { code } } } } } } }`);
    const list = subItems.region.supervisionSubItems;
    expect(list.edges).toHaveLength(list.totalCount);
    for (const { node } of list.edges) {
      expect(node).toMatchObject({ category: 'PENALTY', covered: false, recordCount: 0 });
      expect(['420102', '420103']).toContain(node.department.region.code);
    }
    const mainItems = await api.ok(
      `{ region(code: "410505") { supervisionMainItems(filter: { covered: false }, first: 200) { totalCount edges { node { code subItems { covered } } } } } }`,
    );
    for (const { node } of mainItems.region.supervisionMainItems.edges) expect(node.subItems.every((s: { covered: boolean }) => !s.covered)).toBe(true);
    expect(mainItems.region.supervisionMainItems.edges).toHaveLength(mainItems.region.supervisionMainItems.totalCount);
  });

  it('costs the same number of SQL statements for a small and a large tree of drill-down lists', async () => {
    const query = `query($code: String!) { region(code: $code) {
      unmounted: directories(filter: { mounted: false }, first: 5) { totalCount edges { node { code mounted stale } } }
      uncovered: supervisionSubItems(filter: { covered: false }, first: 5) { totalCount edges { node { code covered } } }
      children { code
        directories(filter: { stale: true }, first: 5) { totalCount edges { node { code } } }
        supervisionMainItems(filter: { covered: false }, first: 5) { totalCount edges { node { code } } }
        children { code departments(first: 40) { edges { node { name
          directories(filter: { mounted: false }, first: 5) { totalCount edges { node { code mounted } } }
          supervisionSubItems(filter: { covered: false, category: INSPECTION }, first: 5) { totalCount edges { node { code } } }
          supervisionMainItems(filter: { covered: true }, first: 3) { totalCount }
        } } } } }
    } }`;
    const measure = async (code: string) => {
      api.sql.reset();
      const data = await api.ok(query, { code });
      return { count: api.sql.count, data };
    };
    const small = await measure('410000');
    const large = await measure('420000');
    expect(small.data.region.children[0].children.map((c: any) => c.departments.edges.length)).toEqual([40, 3]);
    expect(large.data.region.children.flatMap((c: any) => c.children.map((d: any) => d.departments.edges.length))).toEqual([5, 6, 7, 8]);
    expect(large.count).toBe(small.count);
    expect(small.count).toBeLessThanOrEqual(25);
  });
});

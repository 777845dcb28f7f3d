import { departmentFiguresService } from '../../../src/modules/stats/department-figures.service';
import { createRegions } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * No N+1: the number of SQL statements of a dashboard request must not grow
 * with the number of departments, directories or regions it shows.
 */
describe('query budget', () => {
  let api: TestServer;

  /** Fills a district with departments, each with published directories, some mounted. */
  async function fillDistrict(regionCode: string, departments: number): Promise<void> {
    await api.orm.em.getConnection().execute(
      `with deps as (
         insert into department (credit_code, name, region_code)
         select 'X' || ? || lpad(n::text, 11, '0'), '部门' || n, ? from generate_series(1, ?) n
         returning id)
       insert into resource_directory (code, name, department_id, resource_format, information_items, share_type, update_cycle, status, active_mount_count, data_volume, last_refreshed_at)
       select ? || '-' || deps.id || '-' || k, '资源', deps.id, 'DATABASE', '[]', 'UNCONDITIONAL', 'MONTHLY', 'PUBLISHED', k % 2, (k % 2) * 10, now()
       from deps, generate_series(1, 3) k`,
      [regionCode, regionCode, departments, regionCode],
    );
  }

  const DEPARTMENT_DASHBOARD = `query($code: String!) {
    region(code: $code) {
      mountStats { publishedDirectories mountedDirectories dataVolume mountRate staleDirectories }
      departments(first: 500) { edges { node {
        name creditCode region { code }
        mountStats { publishedDirectories mountedDirectories dataVolume mountRate staleDirectories }
        directories(first: 5) { edges { node { code mounted stale department { name } mounts { recordCount } } } }
      } } }
    }
  }`;

  const TREE_DASHBOARD = `query($code: String!) {
    region(code: $code) {
      code mountStats { mountRate }
      children { code mountStats { mountRate dataVolume } parent { code }
        children { code mountStats { mountRate dataVolume } departments(first: 100) { edges { node { mountStats { mountRate } } } } } }
    }
  }`;

  async function statementsOf(query: string, variables: Record<string, unknown>): Promise<{ count: number; data: any }> {
    api.sql.reset();
    const data = await api.ok(query, variables);
    return { count: api.sql.count, data };
  }

  beforeAll(async () => {
    // The cache off: a budget counts the statements of computing an answer; response-cache.test.ts covers the cache's own.
    api = await startTestServer({ responseCacheBytes: 0 });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
      { code: '410502', name: '文峰区' },
      { code: '420000', name: '湖北省' },
    ]);
    for (const city of ['420100', '420200', '420300']) {
      await createRegions(api, [{ code: city, name: city }]);
      for (const district of ['02', '03', '04', '05']) await createRegions(api, [{ code: city.slice(0, 4) + district, name: district }]);
    }
    await fillDistrict('410505', 5);
    await fillDistrict('410502', 200);
    for (const city of ['4201', '4202', '4203']) for (const district of ['02', '03', '04', '05']) await fillDistrict(city + district, 7);
    // Bulk SQL bypassed the services: bring the department figures in line, as the benchmark generator does.
    await departmentFiguresService.rebuildAll(api.orm.em.fork());
  });
  afterAll(() => api.close());

  it('lists 5 or 200 departments with statistics and directories in the same number of statements', async () => {
    const small = await statementsOf(DEPARTMENT_DASHBOARD, { code: '410505' });
    const large = await statementsOf(DEPARTMENT_DASHBOARD, { code: '410502' });
    expect(small.data.region.departments.edges).toHaveLength(5);
    expect(large.data.region.departments.edges).toHaveLength(200);
    expect(large.data.region.mountStats).toMatchObject({ publishedDirectories: 600, mountedDirectories: 400, dataVolume: 4000 });
    expect(large.count).toBe(small.count);
    expect(small.count).toBeLessThanOrEqual(10);
  });

  it('shows a small and a large three-level region tree in the same number of statements', async () => {
    const small = await statementsOf(TREE_DASHBOARD, { code: '410000' });
    const large = await statementsOf(TREE_DASHBOARD, { code: '420000' });
    expect(large.data.region.children).toHaveLength(3);
    expect(large.data.region.children[0].children).toHaveLength(4);
    expect(large.data.region.children[0].mountStats.dataVolume).toBe(4 * 7 * 20);
    expect(large.count).toBe(small.count);
  });

  it('reads a region tree of three levels, each with its figures, in 2 statements: the region, then its children with theirs', async () => {
    const fields = 'code name mountStats { dataVolume mountRate } supervisionStats { records } subscriptionStats { made }';
    const tree = `query($code: String!) { region(code: $code) { ${fields} children { ${fields} children { ${fields} } } } }`;
    const small = await statementsOf(tree, { code: '410000' });
    const large = await statementsOf(tree, { code: '420000' });
    expect(small.count).toBe(2);
    expect(large.count).toBe(2);
    // The same tree asked one level at a time (each level its own query) gives the same regions and figures.
    const level = (code: string) => api.ok(`query($code: String!) { region(code: $code) { ${fields} children { ${fields} } } }`, { code });
    const top = (await level('420000')).region;
    expect(top.children.map((c: any) => c.code)).toEqual(['420100', '420200', '420300']);
    const below = await Promise.all(top.children.map((c: any) => level(c.code)));
    expect(large.data.region).toEqual({ ...top, children: below.map((b) => b.region) });
    expect(large.data.region.children[0].children.map((d: any) => d.code)).toEqual(['420102', '420103', '420104', '420105']);
    expect(large.data.region.children[0].children[0].mountStats.dataVolume).toBe(7 * 20);
    // Asked through a named fragment and an inline one, the next level is still seen.
    const fragments = await statementsOf(
      `query($code: String!) { region(code: $code) { ${fields} children { ...Level } } }
       fragment Level on Region { ${fields} ... on Region { children { ${fields} } } }`,
      { code: '420000' },
    );
    expect(fragments.count).toBe(2);
    expect(fragments.data.region).toEqual(large.data.region);
    // A city asked on another path of the same query reads its own children: the tree's second level stays with the
    // tree's rows, so that path's statement goes out whichever reply comes first (3 statements, every time).
    const twoPaths = await statementsOf(
      `query { tree: region(code: "420000") { code children { code children { code } } } city: region(code: "420100") { children { code } } }`,
      {},
    );
    expect(twoPaths.count).toBe(3);
    expect(twoPaths.data.city.children).toEqual(twoPaths.data.tree.children[0].children);
  });

  it('reads mount, supervision and subscription statistics of the same units in one statement per level', async () => {
    const stats = (fields: string) =>
      `query($code: String!) { region(code: $code) { ${fields} children { ${fields} children { ${fields} departments(first: 20) { edges { node { ${fields} } } } } } } }`;
    const mountOnly = await statementsOf(stats('mountStats { mountRate }'), { code: '420000' });
    const allThree = await statementsOf(
      stats('mountStats { mountRate } supervisionStats { subCoverageRate byCategory { records } } subscriptionStats { made received pending }'),
      { code: '420000' },
    );
    expect(allThree.data.region.children[0].children[0].departments.edges).toHaveLength(7);
    expect(allThree.data.region.supervisionStats.byCategory).toHaveLength(4);
    expect(allThree.count).toBe(mountOnly.count);
  });
});

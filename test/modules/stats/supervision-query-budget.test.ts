import { createRegions, creditCode } from '../../support/builders';
import { ingest, records, runMutations, SUPERVISION_STATS_FIELDS } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * Dashboards ask for supervision coverage of every department of a region,
 * or of a whole region tree: the number of SQL statements must not grow
 * with the number of departments or regions (one grouped statement per
 * level of the query, whatever its width).
 */
describe('supervision statistics query budget', () => {
  let api: TestServer;

  /** Departments with one main item, two sub-items, and records for every third department. */
  async function populate(regionCode: string, count: number, offset: number): Promise<void> {
    const departments = Array.from({ length: count }, (_, i) => ({ creditCode: creditCode(regionCode, offset + i), name: `部门${offset + i}`, regionCode }));
    await runMutations(api, 'createDepartment', 'CreateDepartmentInput', departments);
    await runMutations(
      api,
      'createSupervisionMainItem',
      'CreateSupervisionMainItemInput',
      departments.map((d) => ({ departmentCreditCode: d.creditCode, code: 'M', name: '主项', legalBasis: '依据' })),
    );
    await runMutations(
      api,
      'createSupervisionSubItem',
      'CreateSupervisionSubItemInput',
      departments.flatMap((d) => [
        { departmentCreditCode: d.creditCode, mainItemCode: 'M', code: 'S1', name: '检查', category: 'INSPECTION' },
        { departmentCreditCode: d.creditCode, mainItemCode: 'M', code: 'S2', name: '处罚', category: 'PENALTY' },
      ]),
    );
    for (const [i, d] of departments.entries()) if (i % 3 === 0) await ingest(api, d.creditCode, records('S1', 2, d.creditCode));
  }

  const departmentsQuery = `query($code: String!) { region(code: $code) { departments(first: 500) { edges { node { name supervisionStats { ${SUPERVISION_STATS_FIELDS} } } } } } }`;
  const treeQuery = `query($code: String!) { region(code: $code) {
    supervisionStats { ${SUPERVISION_STATS_FIELDS} }
    children {
      supervisionStats { ${SUPERVISION_STATS_FIELDS} }
      departmentRanking(metric: SUB_COVERAGE_RATE, order: LOWEST_FIRST, first: 5) { rank ratePercent department { name } }
      childRegionRanking(metric: MAIN_COVERAGE_RATE) { rank region { code } }
      children { supervisionStats { ${SUPERVISION_STATS_FIELDS} } }
    }
  } }`;

  async function statementsOf(query: string, code: string): Promise<{ count: number; data: Record<string, any> }> {
    api.sql.reset();
    const data = await api.ok(query, { code });
    return { count: api.sql.count, data };
  }

  beforeAll(async () => {
    // The cache off: a budget counts the statements of computing an answer; response-cache.test.ts covers the cache's own.
    api = await startTestServer({ responseCacheBytes: 0 });
    // A small tree: one city, one district, five departments.
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await populate('410505', 5, 1);
    // A wider tree: three cities of two districts each, 300 departments in one district.
    await createRegions(api, [{ code: '130000', name: '河北省' }]);
    for (const city of ['01', '02', '03']) {
      await createRegions(api, [{ code: `13${city}00`, name: `市${city}` }]);
      for (const district of ['02', '04']) await createRegions(api, [{ code: `13${city}${district}`, name: `区${city}${district}` }]);
    }
    await populate('130102', 300, 1);
    await populate('130204', 7, 400);
    // About 1,300 mutations through the API (each with its figures, audit entry and outbox in its transaction).
  }, 300_000);

  afterAll(() => api.close());

  it('costs the same statements for 5 departments as for 300', async () => {
    const five = await statementsOf(departmentsQuery, '410505');
    const many = await statementsOf(departmentsQuery, '130102');
    expect(five.data.region.departments.edges).toHaveLength(5);
    expect(many.data.region.departments.edges).toHaveLength(300);
    expect(many.data.region.departments.edges[0].node.supervisionStats).toMatchObject({
      mainItems: 1,
      coveredMainItems: 1,
      subItems: 2,
      coveredSubItems: 1,
      records: 2,
      subCoverageRatePercent: '50.00',
    });
    // region, one page of departments, one grouped statement for all their statistics
    expect(five.count).toBe(3);
    expect(many.count).toBe(five.count);
  });

  it('costs the same statements for a three-level tree of 3 regions as for one of 10', async () => {
    const small = await statementsOf(treeQuery, '410000');
    const wide = await statementsOf(treeQuery, '130000');
    expect(wide.data.region.children).toHaveLength(3);
    expect(wide.data.region.children.flatMap((c: { children: unknown[] }) => c.children)).toHaveLength(6);
    expect(wide.data.region.supervisionStats).toMatchObject({ mainItems: 307, subItems: 614, coveredMainItems: 100 + 3, records: 2 * 103 });
    expect(wide.count).toBe(small.count);
    expect(small.count).toBeLessThanOrEqual(8);
  });

  it('costs the same statements every time the tree is asked, whichever path of the query finishes first', async () => {
    // The rankings read their units' figures; the same units' statistics asked beside them must not
    // cost a statement or not depending on which statement came back first.
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) for (const code of ['410000', '130000']) counts.push((await statementsOf(treeQuery, code)).count);
    expect(new Set(counts).size).toBe(1);
  });
});

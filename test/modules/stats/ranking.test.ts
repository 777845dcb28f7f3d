import { addDirectory, createDepartment, createRegions, creditCode, mount, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { createMainItems, createSubItems, ingest, records } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

describe('rankings of departments and child regions', () => {
  let api: TestServer;
  const code = (n: number, region = '410505') => creditCode(region, n);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    // Mount rates: 甲 1/2, 乙 1/2 (a tie, broken by name), 丙 2/2, 丁 nothing published (no rate); 戊 in 文峰区 0/1.
    const plan: [number, string, string, number, number][] = [
      [1, '乙局', '410505', 2, 1],
      [2, '甲局', '410505', 2, 1],
      [3, '丙局', '410505', 2, 2],
      [4, '丁局', '410505', 0, 0],
      [5, '戊局', '410502', 1, 0],
    ];
    for (const [n, name, region, published, mounted] of plan) {
      await createDepartment(api, { creditCode: code(n, region), name, regionCode: region });
      for (let i = 0; i < published; i++) {
        const directory = await addDirectory(api, code(n, region), `R-${n}-${i}`);
        if (i < mounted) await mount(api, directory, 10);
      }
    }
    // Sub-item coverage: 乙 1/1, 戊 1/2; others have no sub-items.
    await createMainItems(api, code(1), [{ code: 'M' }]);
    await createSubItems(api, code(1), [{ code: 'S', mainItemCode: 'M', category: 'INSPECTION' }]);
    await ingest(api, code(1), records('S', 1, 'yi'));
    await createMainItems(api, code(5, '410502'), [{ code: 'M' }]);
    await createSubItems(api, code(5, '410502'), [
      { code: 'S', mainItemCode: 'M', category: 'INSPECTION' },
      { code: 'T', mainItemCode: 'M', category: 'OTHER' },
    ]);
    await ingest(api, code(5, '410502'), records('S', 1, 'wu'));
  });

  afterAll(() => api.close());

  const ranking = async (region: string, args: string) =>
    (
      await api.ok<{
        region: {
          departmentRanking: {
            rank: number;
            department: { name: string };
            rate: number | null;
            ratePercent: string | null;
            numerator: number;
            denominator: number;
          }[];
        };
      }>(`query { region(code: "${region}") { departmentRanking(${args}) { rank department { name } rate ratePercent numerator denominator } } }`)
    ).region.departmentRanking;

  it('pages through a long ranking with skip: pages join into the whole ranking, ranks unchanged', async () => {
    const whole = await ranking('410000', 'metric: MOUNT_RATE, first: 500');
    expect(whole).toHaveLength(5);
    const pages = [];
    for (let skip = 0; skip < 6; skip += 2) pages.push(...(await ranking('410000', `metric: MOUNT_RATE, first: 2, skip: ${skip}`)));
    expect(pages).toEqual(whole);
    expect(pages.map((r) => r.rank)).toEqual([1, 2, 3, 4, null]);
    expect(await ranking('410000', 'metric: MOUNT_RATE, first: 2, skip: 5')).toEqual([]);
    const below = await ranking('410000', 'metric: MOUNT_RATE, order: LOWEST_FIRST, below: 0.6, first: 1, skip: 1');
    expect(below.map((r) => [r.rank, r.department.name])).toEqual([[2, '乙局']]);
    const refused = await api.request(`query { region(code: "410000") { departmentRanking(metric: MOUNT_RATE, skip: -1) { rank } } }`);
    expect(refused.errors?.[0]).toMatchObject({ message: '"skip" must be 0 or more, got -1.', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('ranks by mount rate, highest first, ties by name, units without a rate last', async () => {
    const rows = await ranking('410505', 'metric: MOUNT_RATE');
    expect(rows.map((r) => [r.rank, r.department.name, r.ratePercent])).toEqual([
      [1, '丙局', '100.00'],
      [2, '乙局', '50.00'],
      [3, '甲局', '50.00'],
      [null, '丁局', null],
    ]);
    // The same figures as mountStats.
    const stats = await api.ok<{ department: { mountStats: { mountedDirectories: number; publishedDirectories: number } } }>(
      `query { department(creditCode: "${code(2)}") { mountStats { mountedDirectories publishedDirectories } } }`,
    );
    expect(rows[2]).toMatchObject({ numerator: stats.department.mountStats.mountedDirectories, denominator: stats.department.mountStats.publishedDirectories });
  });

  it('lists the units below a threshold, lowest first, leaving out those without a rate', async () => {
    const rows = await ranking('410000', 'metric: MOUNT_RATE, order: LOWEST_FIRST, below: 0.6');
    expect(rows.map((r) => r.department.name)).toEqual(['戊局', '乙局', '甲局']);
    expect((await ranking('410000', 'metric: SUB_COVERAGE_RATE, first: 2')).map((r) => [r.department.name, r.rate])).toEqual([
      ['乙局', 1],
      ['戊局', 0.5],
    ]);
  });

  it("gives a unit the report's rank in every list: lowest first, below a threshold, on a later page; none without a rate", async () => {
    const { region } = await api.ok<{
      region: {
        lowest: { rank: number | null; department: { name: string } }[];
        below: { rank: number | null; department: { name: string } }[];
        regions: { rank: number | null; region: { code: string } }[];
        report: { departments: { name: string; ranks: { rank: number | null }[] }[]; childRegions: { code: string; ranks: { rank: number | null }[] }[] };
      };
    }>(`query { region(code: "410000") {
      lowest: departmentRanking(metric: MOUNT_RATE, order: LOWEST_FIRST) { rank department { name } }
      below: departmentRanking(metric: MOUNT_RATE, below: 0.6, first: 1, skip: 1) { rank department { name } }
      regions: childRegionRanking(metric: MOUNT_RATE, order: LOWEST_FIRST) { rank region { code } }
      report { departments { name ranks { rank } } childRegions { code ranks { rank } } } } }`);
    // Ranked highest first among the rated: 丙 2/2, 乙 1/2, 甲 1/2 (乙 before 甲 by name), 戊 0/1; 丁 has nothing published.
    expect(region.lowest.map((r) => [r.rank, r.department.name])).toEqual([
      [4, '戊局'],
      [2, '乙局'],
      [3, '甲局'],
      [1, '丙局'],
      [null, '丁局'],
    ]);
    expect(region.below.map((r) => [r.rank, r.department.name])).toEqual([[3, '甲局']]);
    const reportRank = new Map(region.report.departments.map((d) => [d.name, d.ranks[0].rank]));
    expect(region.lowest.map((r) => reportRank.get(r.department.name))).toEqual(region.lowest.map((r) => r.rank));
    // One city below the province: its rank is 1 either way.
    expect(region.regions).toEqual([{ rank: 1, region: { code: '410500' } }]);
    expect(region.report.childRegions.map((c) => c.ranks[0].rank)).toEqual([1]);
    const districts = await api.ok<{ region: { childRegionRanking: { rank: number | null; region: { code: string } }[] } }>(
      `query { region(code: "410500") { childRegionRanking(metric: MOUNT_RATE, order: LOWEST_FIRST) { rank region { code } } } }`,
    );
    expect(districts.region.childRegionRanking.map((r) => [r.rank, r.region.code])).toEqual([
      [2, '410502'],
      [1, '410505'],
    ]);
  });

  it('ranks child regions by the rate of all their departments', async () => {
    const data = await api.ok<{
      region: { childRegionRanking: { rank: number; region: { code: string }; numerator: number; denominator: number; ratePercent: string | null }[] };
    }>(`query { region(code: "410500") { childRegionRanking(metric: MOUNT_RATE) { rank region { code } numerator denominator ratePercent } } }`);
    expect(data.region.childRegionRanking).toEqual([
      { rank: 1, region: { code: '410505' }, numerator: 4, denominator: 6, ratePercent: '66.67' },
      { rank: 2, region: { code: '410502' }, numerator: 0, denominator: 1, ratePercent: '0.00' },
    ]);
  });

  it('ranks the same whether a region is asked alone or in a batch of regions', async () => {
    // Asked alone, a region is compared as one value; in a batch (the children of a city), the codes go as an array.
    const fields = 'departmentRanking(metric: MOUNT_RATE, order: LOWEST_FIRST) { rank department { name } numerator denominator }';
    type District = { code: string; departmentRanking: unknown[]; childRegionRanking: unknown[] };
    const batch = await api.ok<{ region: { children: { children: District[] }[] } }>(
      `query { region(code: "410000") { children { children { code ${fields} childRegionRanking(metric: MOUNT_RATE) { rank region { code } } } } } }`,
    );
    const districts = batch.region.children[0].children;
    expect(districts.map((d) => d.code).sort()).toEqual(['410502', '410505']);
    for (const district of districts) {
      const alone = await api.ok<{ region: { departmentRanking: unknown[]; childRegionRanking: unknown[] } }>(
        `query { region(code: "${district.code}") { ${fields} childRegionRanking(metric: MOUNT_RATE) { rank region { code } } } }`,
      );
      expect(district.departmentRanking.length).toBeGreaterThan(0);
      expect(district.departmentRanking).toEqual(alone.region.departmentRanking);
      expect(district.childRegionRanking).toEqual(alone.region.childRegionRanking);
    }
  });
  it('refuses a page size or threshold out of range', async () => {
    const big = await api.request(`query { region(code: "410505") { departmentRanking(metric: MOUNT_RATE, first: 501) { rank } } }`);
    expect(big.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const pct = await api.request(`query { region(code: "410505") { departmentRanking(metric: MOUNT_RATE, below: 60) { rank } } }`);
    expect(pct.errors?.[0].message).toMatch(/between 0 and 1/);
  });
  it('reads a region asked by code, its children and its rankings at once, with the same statements as one after the other', async () => {
    // Every statement's start and end, in order: the children and the rankings are keyed by the region's code, so
    // they start alongside the region's own row (selection.ts, readAheadAsked), not once it is read.
    const events: string[] = [];
    const knex = api.orm.em.getConnection().getKnex();
    // The response cache's snapshot statement comes first, alone: it is not part of the reading.
    const reading = (sql: string) => !sql.includes('pg_current_snapshot()');
    const started = (query: { sql: string }) => reading(query.sql) && events.push(`start ${query.sql}`);
    const answered = (_rows: unknown, query: { sql: string }) => reading(query.sql) && events.push(`end ${query.sql}`);
    // Four pooled connections open first (the pool opens them as needed): a statement waiting for a new connection
    // would start late whatever the order in which it was sent.
    await Promise.all([1, 2, 3, 4].map(() => knex.raw('select pg_sleep(0.05)')));
    knex.on('query', started).on('query-response', answered);
    const fields =
      'departmentRanking(metric: MOUNT_RATE, first: 3) { rank department { name } } childRegionRanking(metric: SUB_COVERAGE_RATE) { rank region { code } }';
    const asked = `query Ahead($code: String!) { region(code: $code) { code ${fields} children { code } } }`;
    try {
      const ahead = await api.request<{ region: unknown }>(asked, { code: '410500' });
      expect(ahead.errors).toBeUndefined();
      const firstEnd = events.findIndex((event) => event.startsWith('end '));
      expect(events.slice(0, firstEnd)).toHaveLength(4);
      expect(events.filter((event) => event.startsWith('start '))).toHaveLength(4);
      // The same answer as the fields read one after the other (each asked of a region that was not asked by code).
      const after = await api.ok<{ region: { children: unknown[] } }>(`query { region(code: "410000") { children { code ${fields} children { code } } } }`);
      expect(after.region.children).toEqual([ahead.data!.region]);
      // A region that does not exist costs its rankings' and children's statements, and answers null.
      events.splice(0);
      expect((await api.ok<{ region: unknown }>(asked, { code: '419999' })).region).toBeNull();
      expect(events.filter((event) => event.startsWith('start '))).toHaveLength(4);
      // Arguments the ranking refuses are refused by its resolver, as before: nothing was read ahead for them.
      events.splice(0);
      const refused = await api.request(`query { region(code: "410500") { code departmentRanking(metric: MOUNT_RATE, first: 0) { rank } } }`);
      expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(events.filter((event) => event.startsWith('start '))).toHaveLength(1);
    } finally {
      knex.off('query', started).off('query-response', answered);
    }
  });
  it('reads nothing ahead for a field @skip(if: true) or @include(if: false): the statements of the fields asked, as before', async () => {
    const statements: string[] = [];
    const knex = api.orm.em.getConnection().getKnex();
    const started = (query: { sql: string }) => !query.sql.includes('pg_current_snapshot()') && statements.push(query.sql);
    knex.on('query', started);
    try {
      // Many rankings, each with its own arguments, none asked: the cost limit does not count them, so neither may the reading.
      const skipped = Array.from({ length: 8 }, (_, i) => `r${i}: departmentRanking(metric: MOUNT_RATE, first: ${i + 1}) @skip(if: true) { rank }`).join(' ');
      const result = await api.request<{ region: unknown }>(
        `query($no: Boolean = false) { region(code: "410500") { code ${skipped} children @include(if: $no) { code } ... @skip(if: true) { childRegionRanking(metric: SUB_COVERAGE_RATE) { rank } } } }`,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data!.region).toEqual({ code: '410500' });
      expect(statements).toHaveLength(1);
    } finally {
      knex.off('query', started);
    }
  });
});

describe('departments of the same name in two districts', () => {
  let api: TestServer;
  // Names are unique within a region only: 文峰区 and 殷都区 each have a 教育局. 殷都区's is registered first
  // (the lower id), 文峰区's has the lower credit code (11410502... before 11410505...).
  const yindu = creditCode('410505', 1);
  const wenfeng = creditCode('410502', 1);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    for (const [credit, region, name, published] of [
      [yindu, '410505', '教育局', 2],
      [wenfeng, '410502', '教育局', 2],
      [creditCode('410505', 2), '410505', '民政局', 3],
    ] as const) {
      await createDepartment(api, { creditCode: credit, name, regionCode: region });
      // 1 of 2 mounted for both 教育局 (a tie at 50.00 %), 1 of 3 for 民政局.
      for (let i = 0; i < published; i++) {
        const directory = await addDirectory(api, credit, `R-${credit}-${i}`);
        if (i === 0) await mount(api, directory, 10);
      }
    }
  });

  afterAll(() => api.close());

  it('ranks a tie of rate and name by credit code, as the report ranks and lists them', async () => {
    const { region } = await api.ok<{
      region: {
        highest: { rank: number; department: { creditCode: string } }[];
        lowest: { rank: number; department: { creditCode: string } }[];
        report: {
          departments: { code: string; ranks: { rank: number }[] }[];
          appendix4: { code: string }[];
          belowThreshold: { departments: { code: string }[] }[];
        };
      };
    }>(`query { region(code: "410500") {
      highest: departmentRanking(metric: MOUNT_RATE) { rank department { creditCode } }
      lowest: departmentRanking(metric: MOUNT_RATE, order: LOWEST_FIRST) { rank department { creditCode } }
      report { departments { code ranks { rank } } appendix4 { code } belowThreshold(metrics: [MOUNT_RATE]) { departments { code } } } } }`);
    const byCreditCode = [wenfeng, yindu, creditCode('410505', 2)];
    expect(region.highest.map((r) => [r.rank, r.department.creditCode])).toEqual(byCreditCode.map((credit, i) => [i + 1, credit]));
    expect(region.lowest.map((r) => r.department.creditCode)).toEqual([creditCode('410505', 2), wenfeng, yindu]);
    // The report's own ranks, its appendix 4 and its list below 60 % order the tie the same way.
    const reportRank = new Map(region.report.departments.map((d) => [d.code, d.ranks[0].rank]));
    expect(region.highest.map((r) => reportRank.get(r.department.creditCode))).toEqual([1, 2, 3]);
    expect(region.report.appendix4.map((d) => d.code)).toEqual(byCreditCode);
    expect(region.report.belowThreshold[0].departments.map((d) => d.code)).toEqual(region.lowest.map((r) => r.department.creditCode));
  });
});

import { addDirectory, createDepartment, createRegions, creditCode, errorCodes, mount, HENAN_ANYANG_TWO_DISTRICTS } from '../../support/builders';
import { createMainItems, createSubItems, ingest, records } from '../../support/supervision-builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';
import { snapshotService } from '../../../src/modules/reports/snapshot.service';
import { currentPeriod } from '../../../src/modules/reports/period';

const A = creditCode('410505', 1);
const B = creditCode('410505', 2);
const C = creditCode('410502', 1);

const REPORT = `query($code: String!, $period: String, $comparedTo: String, $threshold: Float) {
  region(code: $code) {
    report(period: $period, comparedTo: $comparedTo, threshold: $threshold) {
      period source capturedAt comparedTo threshold
      region { kind code name figures { mount { publishedDirectories mountedDirectories dataVolume mountRatePercent } supervision { records subCoverageRatePercent } }
               change { publishedDirectories mountedDirectories dataVolume mountRatePoints records subCoverageRatePoints subItems } ranks { metric } }
      departments { code name figures { mount { publishedDirectories mountedDirectories mountRatePercent } }
                    previous { mount { publishedDirectories } } change { mountedDirectories mountRatePoints dataVolume }
                    ranks { metric rank of below } }
      childRegions { code name figures { mount { mountRatePercent } } change { mountRatePoints } ranks { metric rank of below } }
      belowThreshold { metric departments { name } childRegions { name } }
    }
  }
}`;

const CAPTURE = `mutation($period: String!, $replace: Boolean) { captureSnapshot(input: { period: $period, replace: $replace }) { period capturedBy departmentCount regionCount replacements } }`;

describe('monthly snapshots and the region report', () => {
  let api: TestServer;

  beforeAll(async () => {
    // The cache off: statement counts here are those of computing a report; response-cache.test.ts covers reuse.
    // Reports of every child region at once cost more than the default limit (40 regions x 20,000 departments
    // as bounds); this file checks the figures, query-cost.test.ts the limit.
    api = await startTestServer({ responseCacheBytes: 0, maxQueryCost: 100_000_000 });
    await createRegions(api, HENAN_ANYANG_TWO_DISTRICTS);
    await createDepartment(api, { creditCode: A, name: '殷都区教育局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: C, name: '文峰区教育局', regionCode: '410502' });
    // May: A 1/2 mounted (100 records), B 0/1, C nothing published; A has 2 sub-items, 1 covered.
    await mount(api, await addDirectory(api, A, 'A-1'), 100);
    await addDirectory(api, A, 'A-2');
    await addDirectory(api, B, 'B-1');
    await createMainItems(api, A, [{ code: 'M1' }]);
    await createSubItems(api, A, [
      { code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' },
      { code: 'S2', mainItemCode: 'M1', category: 'PENALTY' },
    ]);
    await ingest(api, A, records('S1', 3));
    expect(await api.ok(CAPTURE, { period: '2023-05' })).toEqual({
      captureSnapshot: { period: '2023-05', capturedBy: 'Bootstrap administrator', departmentCount: 3, regionCount: 4, replacements: 0 },
    });
    // June: A mounts its second directory (+437 records), B publishes a second one, S2 gets covered.
    await mount(api, 'A-2', 437);
    await addDirectory(api, B, 'B-2');
    await ingest(api, A, records('S2', 2));
    await api.ok(CAPTURE, { period: '2023-06' });
  });

  afterAll(() => api.close());

  it('reports the period against the month before: counts as differences, rates in percentage points', async () => {
    const { region } = await api.ok(REPORT, { code: '410500', period: '2023-06' });
    const report = region.report;
    expect(report).toMatchObject({ period: '2023-06', source: 'SNAPSHOT', comparedTo: '2023-05', threshold: 0.6 });
    expect(report.region).toMatchObject({
      kind: 'REGION',
      code: '410500',
      figures: {
        mount: { publishedDirectories: 4, mountedDirectories: 2, dataVolume: 537, mountRatePercent: '50.00' },
        supervision: { records: 5, subCoverageRatePercent: '100.00' },
      },
      // May: 1 of 3 mounted (33.33 %); June: 2 of 4 (50.00 %): +16.67 points. Sub-items: 50.00 % -> 100.00 %.
      change: { publishedDirectories: 1, mountedDirectories: 1, dataVolume: 437, mountRatePoints: 16.67, records: 2, subCoverageRatePoints: 50, subItems: 0 },
      ranks: [],
    });
    const byName = Object.fromEntries(report.departments.map((d: { name: string }) => [d.name, d]));
    expect(report.departments.map((d: { name: string }) => d.name)).toEqual(['文峰区教育局', '殷都区教育局', '殷都区民政局']);
    expect(byName['殷都区教育局']).toMatchObject({
      code: A,
      figures: { mount: { publishedDirectories: 2, mountedDirectories: 2, mountRatePercent: '100.00' } },
      previous: { mount: { publishedDirectories: 2 } },
      change: { mountedDirectories: 1, mountRatePoints: 50, dataVolume: 437 },
      ranks: [
        { metric: 'MOUNT_RATE', rank: 1, of: 2, below: false },
        { metric: 'MAIN_COVERAGE_RATE', rank: 1, of: 1, below: false },
        { metric: 'SUB_COVERAGE_RATE', rank: 1, of: 1, below: false },
      ],
    });
    expect(byName['殷都区民政局']).toMatchObject({
      change: { mountedDirectories: 0, mountRatePoints: 0 },
      ranks: [{ metric: 'MOUNT_RATE', rank: 2, of: 2, below: true }, { rank: null, of: 1, below: false }, { rank: null }],
    });
    // Nothing published: no rate, so no rate change, no rank, never "below".
    expect(byName['文峰区教育局']).toMatchObject({
      figures: { mount: { mountRatePercent: null } },
      change: { mountRatePoints: null },
      ranks: [{ rank: null, below: false }, { rank: null }, { rank: null }],
    });
    expect(report.childRegions.map((r: { code: string }) => r.code)).toEqual(['410502', '410505']);
    expect(report.childRegions[1]).toMatchObject({
      name: '殷都区',
      figures: { mount: { mountRatePercent: '50.00' } },
      change: { mountRatePoints: 16.67 },
      ranks: [{ metric: 'MOUNT_RATE', rank: 1, of: 1, below: true }, { rank: 1 }, { rank: 1 }],
    });
    expect(report.belowThreshold[0]).toEqual({ metric: 'MOUNT_RATE', departments: [{ name: '殷都区民政局' }], childRegions: [{ name: '殷都区' }] });
  });

  it('lists below the threshold only the rates asked for, in the order of the rates, in the statements of one', async () => {
    const BELOW = `query($code: String!, $metrics: [RankingMetric!]) { region(code: $code) { report(period: "2023-06", threshold: 0.6) {
      belowThreshold(metrics: $metrics) { metric departmentCount departments(first: 5) { name } childRegions { name } } } } }`;
    type Below = { region: { report: { belowThreshold: { metric: string }[] } } };
    const metricsOf = (data: Below) => data.region.report.belowThreshold.map((b) => b.metric);
    const all = await api.ok<Below>(BELOW, { code: '410500' });
    expect(metricsOf(all)).toEqual(['MOUNT_RATE', 'MAIN_COVERAGE_RATE', 'SUB_COVERAGE_RATE']);
    api.sql.reset();
    const two = await api.ok<Below>(BELOW, { code: '410500', metrics: ['SUB_COVERAGE_RATE', 'MOUNT_RATE'] });
    const statements = api.sql.count;
    expect(metricsOf(two)).toEqual(['MOUNT_RATE', 'SUB_COVERAGE_RATE']);
    expect(two.region.report.belowThreshold).toEqual([all.region.report.belowThreshold[0], all.region.report.belowThreshold[2]]);
    api.sql.reset();
    const one = await api.ok<Below>(BELOW, { code: '410500', metrics: ['MOUNT_RATE'] });
    expect(one.region.report.belowThreshold).toEqual([all.region.report.belowThreshold[0]]);
    expect(api.sql.count).toBe(statements);
    expect((await api.ok(BELOW, { code: '410500', metrics: [] })).region.report.belowThreshold).toEqual([]);
  });

  it('reads the units of a snapshot in a fixed order: regions, then departments, each by code', async () => {
    // Stored as A, B (Yindu), C (Wenfeng): C's code comes first.
    const trees = await snapshotService.unitsOfRegionTrees(api.orm.em.fork(), '2023-06', ['410500', '410505']);
    const order = (code: string) => trees.get(code)!.map((u) => `${u.kind} ${u.key}`);
    expect(order('410500')).toEqual(['REGION 410500', 'REGION 410502', 'REGION 410505', `DEPARTMENT ${C}`, `DEPARTMENT ${A}`, `DEPARTMENT ${B}`]);
    expect(order('410505')).toEqual(['REGION 410505', `DEPARTMENT ${A}`, `DEPARTMENT ${B}`]);
  });

  it('compares with any captured month, uses live figures for "now", and refuses months it cannot know', async () => {
    const same = await api.ok(REPORT, { code: '410505', period: '2023-06', comparedTo: '2023-05', threshold: 0.1 });
    // 0 of 2 mounted is below even 10 %; nothing else is.
    expect(same.region.report.belowThreshold.map((b: { departments: unknown[] }) => b.departments)).toEqual([[{ name: '殷都区民政局' }], [], []]);
    const live = (await api.ok(REPORT, { code: '410505' })).region.report;
    expect(live).toMatchObject({
      source: 'LIVE',
      capturedAt: null,
      comparedTo: null,
      region: { change: null, figures: { mount: { publishedDirectories: 4 } } },
    });
    const liveVsMay = (await api.ok(REPORT, { code: '410505', comparedTo: '2023-05' })).region.report;
    expect(liveVsMay).toMatchObject({ source: 'LIVE', comparedTo: '2023-05', region: { change: { dataVolume: 437 } } });
    const missing = await api.request(REPORT, { code: '410505', period: '2023-04' });
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    expect(missing.errors![0].message).toContain('no snapshot of 2023-04');
    expect(errorCodes(await api.request(REPORT, { code: '410505', period: '2023-06', comparedTo: '2023-03' }))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await api.request(REPORT, { code: '410505', period: '2023-05', comparedTo: '2023-06' }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await api.request(REPORT, { code: '410505', period: '2023-6' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('keeps snapshots immutable: a second capture is refused unless replaced, and the replacement is audited', async () => {
    const again = await api.request(CAPTURE, { period: '2023-06' });
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    await mount(api, 'B-1', 5);
    expect((await api.ok(CAPTURE, { period: '2023-06', replace: true })).captureSnapshot).toMatchObject({ replacements: 1 });
    const report = (await api.ok(REPORT, { code: '410505', period: '2023-06' })).region.report;
    expect(report.region.figures.mount.mountedDirectories).toBe(3);
    const audit = await api.ok(
      `{ auditEntries(filter: { entityType: "ReportSnapshot", entityId: "2023-06" }, first: 10) { edges { node { action before after } } } }`,
    );
    const entries = audit.auditEntries.edges.map(
      (e: { node: { action: string; before: Record<string, unknown> | null; after: Record<string, unknown> } }) => e.node,
    );
    expect(entries.map((e: { action: string }) => e.action).sort()).toEqual(['captureSnapshot', 'replaceSnapshot']);
    expect(entries.find((e: { action: string }) => e.action === 'replaceSnapshot')).toMatchObject({ before: { replacements: 0 }, after: { replacements: 1 } });
    expect((await api.ok(`{ reportSnapshots { period } }`)).reportSnapshots).toEqual([{ period: '2023-06' }, { period: '2023-05' }]);
  });

  it("refuses to capture a month that has not begun, which would label today's figures with it", async () => {
    const [year, month] = currentPeriod().split('-').map(Number);
    const next = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
    for (const period of ['2099-01', next]) {
      const response = await api.request(CAPTURE, { period });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0].message).toContain(`The period ${period} has not begun: the current month is ${currentPeriod()} (China Standard Time).`);
    }
    expect((await api.ok(`{ reportSnapshots { period } }`)).reportSnapshots.map((s: { period: string }) => s.period)).not.toContain('2099-01');
  });

  it('lets only administrators capture; any signed-in caller reads reports', async () => {
    const steward = await api.asRole('STEWARD', A);
    const viewer = await api.asRole('VIEWER');
    expect(errorCodes(await steward.request(CAPTURE, { period: '2023-07' }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await viewer.request(CAPTURE, { period: '2023-07' }))).toEqual(['FORBIDDEN']);
    expect((await viewer.ok(REPORT, { code: '410505', period: '2023-06' })).region.report.period).toBe('2023-06');
    expect(errorCodes(await api.anonymous.request(REPORT, { code: '410505', period: '2023-06' }))).toEqual(['UNAUTHENTICATED']);
  });

  it('computes the reports of many regions together: each the same as alone', async () => {
    const CHILDREN = `{ region(code: "410500") { children { code report(period: "2023-06") { region { code figures { mount { publishedDirectories } } change { dataVolume } } departments { code ranks { rank } } childRegions { code } } } } }`;
    api.sql.reset();
    const together = (await api.ok(CHILDREN)).region.children;
    const statements = api.sql.count;
    expect(together.map((c: { code: string }) => c.code)).toEqual(['410502', '410505']);
    for (const child of together) {
      const alone = await api.ok(
        `{ region(code: "${child.code}") { report(period: "2023-06") { region { code figures { mount { publishedDirectories } } change { dataVolume } } departments { code ranks { rank } } childRegions { code } } } }`,
      );
      expect(child.report).toEqual(alone.region.report);
    }
    expect(together[1].report.departments.map((d: { code: string }) => d.code).sort()).toEqual([A, B].sort());
    expect(statements).toBeLessThan(12);
  });

  it('reads a report in a fixed number of statements, whatever the number of departments', async () => {
    const count = async () => {
      api.sql.reset();
      await api.ok(REPORT, { code: '410000', comparedTo: '2023-06' });
      return api.sql.count;
    };
    const before = await count();
    for (let n = 10; n < 40; n++) await createDepartment(api, { creditCode: creditCode('410505', n), name: `部门${n}`, regionCode: '410505' });
    expect(await count()).toBe(before);
    expect(before).toBeLessThan(20);
  });

  it('says a region created after a captured month was not in its snapshot, and reports it live', async () => {
    await createRegions(api, [{ code: '410503', name: '北关区' }]);
    const old = await api.request(REPORT, { code: '410503', period: '2023-06' });
    expect(errorCodes(old).length).toBeGreaterThan(0);
    expect(new Set(errorCodes(old))).toEqual(new Set(['NOT_FOUND']));
    expect(old.errors![0].message).toBe('Region 410503 (北关区) was not in the snapshot of 2023-06.');
    expect(JSON.stringify(old.errors)).not.toMatch(/select |at .*\.ts:/);
    // Its parent's report of that month is whole (the new region is not in it); its live report answers.
    const parent = (await api.ok(REPORT, { code: '410500', period: '2023-06' })).region.report;
    expect(parent.childRegions.map((r: { code: string }) => r.code).sort()).toEqual(['410502', '410505']);
    expect((await api.ok(REPORT, { code: '410503' })).region.report).toMatchObject({ source: 'LIVE', region: { code: '410503' }, departments: [] });
    // The appendix export says the same, as a 404 with the same words.
    const exported = await http(api, '/reports/410503/2023-06/resources.csv');
    expect(exported.status).toBe(404);
    expect(exported.body.toString('utf8')).toContain('was not in the snapshot of 2023-06');
  });
});

import { expectCountsEqualFigures, figuresAndCounts } from '../support/drill-down';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The demo tells the whole story out of the box: snapshots of May and June
 * 2023, so the June report, its change since May and its exports work; and
 * every drill-down list of every unit adds up to the figure it explains.
 */
describe('the demo: report months and drill-down', () => {
  let api: TestServer;
  // Loading the demo through the services takes minutes on a busy machine (once per test run: test/support/database.ts).
  beforeAll(async () => {
    api = await startTestServer({ demo: true });
  }, 900_000);
  afterAll(() => api?.close());

  it('holds snapshots of May and June 2023, and June reads its change since May', async () => {
    const viewer = api.withToken(api.demoTokens!.viewer);
    const data = await viewer.ok(`{
      reportSnapshots { period departmentCount }
      region(code: "410505") { report(period: "2023-06") {
        period source comparedTo
        region { figures { mount { mountedDirectories dataVolume } supervision { records coveredSubItems } } change { mountedDirectories dataVolume records coveredSubItems mountRatePoints } }
        departments { name change { records } }
      } }
    }`);
    expect(data.reportSnapshots.map((s: { period: string }) => s.period)).toEqual(['2023-06', '2023-05']);
    const report = data.region.report;
    expect(report).toMatchObject({ period: '2023-06', source: 'SNAPSHOT', comparedTo: '2023-05' });
    // June added records and mounted directories: the change since May is there, and positive, for both.
    expect(report.region.change.records).toBeGreaterThan(0);
    expect(report.region.change.coveredSubItems).toBeGreaterThan(0);
    expect(report.region.change.mountedDirectories).toBeGreaterThan(0);
    expect(report.region.change.dataVolume).toBeGreaterThan(0);
    expect(report.region.change.mountRatePoints).toBeGreaterThan(0);
    expect(report.departments.every((d: { change: unknown }) => d.change !== null)).toBe(true);
  });

  it('exports the June appendix tables (the README example paths)', async () => {
    const base = api.server.url.replace(/\/graphql$/, '');
    for (const path of ['/reports/410505/2023-06/resources.xlsx', '/reports/410505/2023-06/supervision.csv']) {
      const response = await fetch(base + path, { headers: { authorization: `Bearer ${api.demoTokens!.viewer}` } });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it('gives every drill-down list of every region and department a totalCount equal to its figure', async () => {
    const units = await figuresAndCounts(api.withToken(api.demoTokens!.viewer), ['410000', '410500', '410505', '410502']);
    expect(units.length).toBeGreaterThan(20);
    for (const unit of units) expectCountsEqualFigures(unit);
    const yindu = units.find((u) => u.code === '410505');
    expect(yindu.unmounted.totalCount).toBeGreaterThan(0);
    expect(yindu.stale.totalCount).toBeGreaterThan(0);
    expect(yindu.uncoveredSubItems.totalCount).toBeGreaterThan(0);
  });

  it('offers the demo tokens to the dashboard, which a server outside the demo never does', async () => {
    const base = api.server.url.replace(/\/graphql$/, '');
    const tokens = (await (await fetch(`${base}/demo/tokens`)).json()) as { roles: { role: string; token: string }[] };
    expect(tokens.roles.map((r: { role: string }) => r.role)).toEqual(['ADMIN', 'STEWARD', 'VIEWER']);
    const steward = tokens.roles.find((r: { role: string }) => r.role === 'STEWARD');
    const who = await api.withToken(steward!.token).ok('{ viewer { role departmentCreditCode } }');
    expect(who.viewer.role).toBe('STEWARD');
    const plain = await startTestServer();
    try {
      const response = await fetch(`${plain.server.url.replace(/\/graphql$/, '')}/demo/tokens`);
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

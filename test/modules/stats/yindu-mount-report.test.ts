import { creditCode, readReportTable } from '../../support/builders';
import { reportPercent } from '../../support/report-percent';
import { buildYinduResources } from '../../support/yindu';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * Acceptance: appendix 4 of the Yindu June 2023 report, rebuilt through the
 * API from its counts, must come back with every figure and rate the report
 * printed.
 */
describe('mount statistics reproduce the Yindu report (appendix 4)', () => {
  let api: TestServer;
  const rows = readReportTable('resources.csv');

  beforeAll(async () => {
    api = await startTestServer();
    await buildYinduResources(api, rows);
  });

  afterAll(() => api.close());

  it('gives every department the figures of its row', async () => {
    for (const [d, row] of rows.entries()) {
      const data = await api.ok<{ department: { name: string; mountStats: Record<string, unknown> } }>(
        `query($c: String!) { department(creditCode: $c) { name mountStats { publishedDirectories mountedDirectories dataVolume mountRate mountRatePercent } } }`,
        { c: creditCode('410505', d + 1) },
      );
      const stats = data.department.mountStats;
      expect({ name: data.department.name, ...stats }).toEqual({
        name: row.department,
        publishedDirectories: Number(row.published_directories),
        mountedDirectories: Number(row.mounted_directories),
        dataVolume: Number(row.data_volume),
        mountRate: Number(row.mounted_directories) / Number(row.published_directories),
        mountRatePercent: row.mount_rate_pct,
      });
    }
  });

  it('gives the district, city and province the sums of the rows, with the rate recomputed', async () => {
    const sum = (column: string) => rows.reduce((total, row) => total + Number(row[column]), 0);
    const expected = {
      publishedDirectories: sum('published_directories'),
      mountedDirectories: sum('mounted_directories'),
      dataVolume: sum('data_volume'),
      mountRate: sum('mounted_directories') / sum('published_directories'),
      mountRatePercent: reportPercent(sum('mounted_directories'), sum('published_directories')),
    };
    for (const code of ['410505', '410500', '410000']) {
      const data = await api.ok<{ region: { mountStats: Record<string, unknown> } }>(
        `query($code: String!) { region(code: $code) { mountStats { publishedDirectories mountedDirectories dataVolume mountRate mountRatePercent } } }`,
        { code },
      );
      expect(data.region.mountStats).toEqual(expected);
    }
  });
});

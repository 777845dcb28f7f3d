import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../support/builders';
import { http } from '../support/http';
import { startTestServer, type TestServer } from '../support/test-server';

const CEILING = 1_000_000_000_000_000;
/** Ten mounts at the ceiling: 10^16, beyond 2^53 (9,007,199,254,740,992), still exact. */
const TEN = '10000000000000000';

describe('counts beyond 2^53 (finding 2)', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);
  // The current month in China Standard Time, as Mulu counts it (src/modules/reports/period.ts): from 16:00 UTC on the last day of a month it is already the next.
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区人社局', regionCode: '410505' });
    await addDirectory(api, dept, 'BIG-1');
    await addDirectory(api, dept, 'BIG-2');
    for (let i = 0; i < 10; i++) await mount(api, 'BIG-1', CEILING);
    await mount(api, 'BIG-2', 7);
  });
  afterAll(() => api.close());

  it('refuses one record count above the ceiling, naming the field', async () => {
    const response = await api.request(
      `mutation { mountDataset(input: { directory: { code: "BIG-2" }, kind: TABLE, locator: "t", recordCount: 9007199254740991 }) { id } }`,
    );
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/recordCount/);
  });

  it('keeps the sums exact and readable up to the province: mountStats, report, directories page and resources.csv', async () => {
    const exact = (BigInt(TEN) + 7n).toString();
    for (const code of ['410505', '410500', '410000']) {
      const data = await api.ok(`{ region(code: "${code}") { mountStats { dataVolume mountedDirectories } } }`);
      expect(data.region.mountStats).toEqual({ dataVolume: exact, mountedDirectories: 2 });
    }
    const department = await api.ok(`{ department(creditCode: "${dept}") { mountStats { dataVolume } } }`);
    expect(department.department.mountStats.dataVolume).toBe(exact);
    const page = await api.ok(`{ directories(first: 10) { edges { node { code dataVolume mounts { recordCount } } } } }`);
    const volumes = Object.fromEntries(page.directories.edges.map((e: any) => [e.node.code, e.node.dataVolume]));
    expect(volumes).toEqual({ 'BIG-1': TEN, 'BIG-2': 7 });
    const report = await api.ok(`{ region(code: "410000") { report(period: "${month}") { region { figures { mount { dataVolume } } } } } }`);
    expect(report.region.report.region.figures.mount.dataVolume).toBe(exact);
    const csv = await http(api, `/reports/410000/${month}/resources.csv`);
    expect(csv.status).toBe(200);
    expect(csv.body.toString('utf8')).toContain(exact);
  });
});

import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../../support/builders';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';

const STATS = `query($c: String!) { department(creditCode: $c) { mountStats { publishedDirectories mountedDirectories dataVolume staleDirectories mountRate } } }`;
const REFRESH = `mutation($input: RefreshMountInput!) { refreshMount(input: $input) { recordCount lastRefreshedAt active } }`;
const REFRESH_LOCATOR = `mutation($input: RefreshMountInput!) { refreshMount(input: $input) { recordCount locator } }`;
const UNMOUNT = `mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { active unmountedAt } }`;
const DAY = 24 * 3600 * 1000;

describe('mounts', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);
  const stats = async () => (await api.ok(STATS, { c: dept })).department.mountStats;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区人社局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('counts a published directory as mounted once it has an active mount, summing record counts beyond 2^31', async () => {
    await addDirectory(api, dept, 'HR-1');
    await addDirectory(api, dept, 'HR-2');
    expect(await stats()).toEqual({ publishedDirectories: 2, mountedDirectories: 0, dataVolume: 0, staleDirectories: 0, mountRate: 0 });
    await mount(api, 'HR-1', 3_000_000_000);
    await mount(api, 'HR-1', 5);
    expect(await stats()).toEqual({ publishedDirectories: 2, mountedDirectories: 1, dataVolume: 3_000_000_005, staleDirectories: 0, mountRate: 0.5 });
    const directory = (await api.ok(`{ directory(code: "HR-1") { dataVolume mounted mounts { recordCount kind } } }`)).directory;
    expect(directory).toEqual({
      dataVolume: 3_000_000_005,
      mounted: true,
      mounts: [
        { recordCount: 3_000_000_000, kind: 'TABLE' },
        { recordCount: 5, kind: 'TABLE' },
      ],
    });
  });

  it('refreshes an active mount: new count and time', async () => {
    const id = await mount(api, 'HR-2', 10);
    const at = new Date(Date.now() - 3600_000).toISOString();
    const refreshed = (await api.ok(REFRESH, { input: { mountId: id, recordCount: 42, refreshedAt: at } })).refreshMount;
    expect(refreshed).toEqual({ recordCount: 42, lastRefreshedAt: at, active: true });
    // Read back through the directory, as a catalogue page lists mounts (plain rows, mount.row.ts): the same times.
    const listed = (await api.ok(`{ directory(code: "HR-2") { mounts { id recordCount lastRefreshedAt mountedAt unmountedAt } } }`)).directory.mounts;
    expect(listed).toEqual([{ id, recordCount: 42, lastRefreshedAt: at, mountedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), unmountedAt: null }]);
    expect((await stats()).dataVolume).toBe(3_000_000_047);
    const future = await api.request(REFRESH, { input: { mountId: id, recordCount: 1, refreshedAt: new Date(Date.now() + 2 * DAY).toISOString() } });
    expect(future.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const negative = await api.request(REFRESH, { input: { mountId: id, recordCount: -1 } });
    expect(negative.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('keeps an unmounted dataset as history and stops counting it', async () => {
    await addDirectory(api, dept, 'HR-3');
    const id = await mount(api, 'HR-3', 7);
    expect((await stats()).mountedDirectories).toBe(3);
    const unmounted = (await api.ok(UNMOUNT, { id })).unmountDataset;
    expect(unmounted.active).toBe(false);
    expect(unmounted.unmountedAt).toEqual(expect.any(String));
    expect(await stats()).toMatchObject({ publishedDirectories: 3, mountedDirectories: 2, dataVolume: 3_000_000_047 });
    const history = (await api.ok(`{ directory(code: "HR-3") { mounted mounts { id } all: mounts(includeInactive: true) { id active } } }`)).directory;
    expect(history).toEqual({ mounted: false, mounts: [], all: [{ id, active: false }] });
    const [listed] = (await api.ok(`{ directory(code: "HR-3") { mounts(includeInactive: true) { unmountedAt } } }`)).directory.mounts;
    expect(listed.unmountedAt).toBe(unmounted.unmountedAt);
    expect((await api.request(UNMOUNT, { id })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await api.request(REFRESH, { input: { mountId: id, recordCount: 1 } })).errors?.[0].extensions?.code).toBe('CONFLICT');
  });

  it('flags mounted data not refreshed within its update cycle as stale', async () => {
    await addDirectory(api, dept, 'HR-DAILY', { updateCycle: 'DAILY' });
    await addDirectory(api, dept, 'HR-YEARLY', { updateCycle: 'YEARLY' });
    await mount(api, 'HR-DAILY', 1, new Date(Date.now() - 3 * DAY).toISOString());
    await mount(api, 'HR-YEARLY', 1, new Date(Date.now() - 30 * DAY).toISOString());
    expect((await stats()).staleDirectories).toBe(1);
    const flags = await api.ok(`{ a: directory(code: "HR-DAILY") { stale } b: directory(code: "HR-YEARLY") { stale } }`);
    expect(flags).toEqual({ a: { stale: true }, b: { stale: false } });
  });

  it('shows each mutation of one document the figures as that mutation left them (no loader cache from an earlier one)', async () => {
    const other = creditCode('410505', 2);
    await createDepartment(api, { creditCode: other, name: '殷都区文旅局', regionCode: '410505' });
    await addDirectory(api, other, 'TOUR-1');
    const first = await mount(api, 'TOUR-1', 10);
    const FIGURES = `directory { dataVolume stale department { mountStats { mountedDirectories dataVolume staleDirectories } } }`;
    const old = new Date(Date.now() - 90 * DAY).toISOString();
    // Mutations of one document run one after the other, in one request with one set of loaders.
    const data = await api.ok(
      `mutation($first: ID!, $old: DateTimeISO!) {
        refreshed: refreshMount(input: { mountId: $first, recordCount: 100, refreshedAt: $old }) { ${FIGURES} }
        added: mountDataset(input: { directory: { code: "TOUR-1" }, kind: FILE, locator: "/data/tour.csv", recordCount: 5 }) { ${FIGURES} }
        unmounted: unmountDataset(input: { mountId: $first }) { ${FIGURES} }
      }`,
      { first, old },
    );
    const figures = (key: string) => {
      const { dataVolume, stale, department } = data[key].directory;
      return { directoryVolume: dataVolume, stale, ...department.mountStats };
    };
    expect(figures('refreshed')).toEqual({ directoryVolume: 100, stale: true, mountedDirectories: 1, dataVolume: 100, staleDirectories: 1 });
    expect(figures('added')).toEqual({ directoryVolume: 105, stale: false, mountedDirectories: 1, dataVolume: 105, staleDirectories: 0 });
    expect(figures('unmounted')).toEqual({ directoryVolume: 5, stale: false, mountedDirectories: 1, dataVolume: 5, staleDirectories: 0 });
  });

  it("shows a mount's locator (internal table names, API addresses) to the provider's stewards and administrators only, on every path", async () => {
    const other = creditCode('410505', 3);
    await createDepartment(api, { creditCode: other, name: '殷都区民政局', regionCode: '410505' });
    await addDirectory(api, dept, 'HR-LOC');
    const id = await mount(api, 'HR-LOC', 4);
    const READ = `query($id: ID!) {
      directory(code: "HR-LOC") { mounts { locator } }
      directories(filter: { text: "HR-LOC" }) { edges { node { mounts { locator } } } }
      node(id: $id) { ... on Mount { locator } }
    }`;
    const seen = async (client: ApiClient) => {
      const data = await client.ok(READ, { id });
      return [data.directory.mounts[0].locator, data.directories.edges[0].node.mounts[0].locator, data.node.locator];
    };
    const steward = await api.asRole('STEWARD', dept);
    expect(await seen(api)).toEqual(['ods.HR-LOC', 'ods.HR-LOC', 'ods.HR-LOC']);
    expect(await seen(steward)).toEqual(['ods.HR-LOC', 'ods.HR-LOC', 'ods.HR-LOC']);
    // Everything else about the mount stays everyone's: only where the data lives is the provider's.
    expect(await seen(await api.asRole('STEWARD', other))).toEqual([null, null, null]);
    expect(await seen(await api.asRole('VIEWER'))).toEqual([null, null, null]);
    expect((await steward.ok(REFRESH_LOCATOR, { input: { mountId: id, recordCount: 5 } })).refreshMount).toEqual({ recordCount: 5, locator: 'ods.HR-LOC' });
  });

  it('refuses to mount on a withdrawn directory or an unknown one, and unknown mounts', async () => {
    await api.ok(`mutation { withdrawDirectory(input: { directory: { code: "HR-3" } }) { status } }`);
    const response = await api.request(
      `mutation { mountDataset(input: { directory: { code: "HR-3" }, kind: API, locator: "https://x", recordCount: 1 }) { id } }`,
    );
    expect(response.errors?.[0].extensions?.code).toBe('CONFLICT');
    const unknown = await api.request(
      `mutation { mountDataset(input: { directory: { code: "NOPE" }, kind: API, locator: "https://x", recordCount: 1 }) { id } }`,
    );
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const wrongType = await api.request(UNMOUNT, { id: Buffer.from('Region:410505').toString('base64url') });
    expect(wrongType.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await api.request(UNMOUNT, { id: Buffer.from('Mount:999999').toString('base64url') });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

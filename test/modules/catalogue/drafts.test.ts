import { addDirectory, createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, mount } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type ApiClient, type TestServer } from '../../support/test-server';
import { toGlobalId } from '../../../src/graphql/global-id';

/**
 * A draft directory is its department's unpublished work (docs/security.md):
 * its stewards and administrators read it, with its items and mounts; for a
 * viewer or another department it is not there, on every path.
 */
describe('draft directories', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  let draftId: string;
  let mountId: string;
  const callers: Record<string, ApiClient> = {};
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区人社局', regionCode: '410505' });
    await addDirectory(api, A, 'PUB-1');
    await addDirectory(api, A, 'DRAFT-1', { publish: false });
    mountId = await mount(api, 'DRAFT-1', 7);
    draftId = (await api.ok<{ directory: { id: string } }>('{ directory(code: "DRAFT-1") { id } }')).directory.id;
    const claims = {
      admin: null,
      ownSteward: { role: 'STEWARD', department: A, sub: 'steward-a', name: 'Steward A' },
      otherSteward: { role: 'STEWARD', department: B, sub: 'steward-b', name: 'Steward B' },
      viewer: { role: 'VIEWER', sub: 'viewer', name: 'Viewer' },
    };
    for (const [who, claim] of Object.entries(claims)) {
      tokens[who] = claim ? await api.signToken(claim) : api.adminToken;
      callers[who] = api.withToken(tokens[who]);
    }
  });
  afterAll(() => api.close());

  const READ = `query($draft: ID!, $mount: ID!) {
    directory(code: "DRAFT-1") { code informationItems { name } }
    directories(filter: { text: "-1" }) { totalCount edges { node { code } } }
    drafts: directories(filter: { status: DRAFT }) { totalCount }
    department(creditCode: "${A}") { directories { totalCount edges { node { code } } } }
    region(code: "410505") { directories { totalCount } }
    draft: node(id: $draft) { id }
    mount: node(id: $mount) { id }
  }`;

  it('is read by its own stewards and administrators, on every path', async () => {
    for (const who of ['admin', 'ownSteward']) {
      const data = await callers[who].ok(READ, { draft: draftId, mount: mountId });
      expect({ who, data }).toEqual({
        who,
        data: {
          directory: { code: 'DRAFT-1', informationItems: [{ name: '名称' }] },
          directories: { totalCount: 2, edges: [{ node: { code: 'PUB-1' } }, { node: { code: 'DRAFT-1' } }] },
          drafts: { totalCount: 1 },
          department: { directories: { totalCount: 2, edges: [{ node: { code: 'PUB-1' } }, { node: { code: 'DRAFT-1' } }] } },
          region: { directories: { totalCount: 2 } },
          draft: { id: draftId },
          mount: { id: mountId },
        },
      });
    }
  });

  it('is not there for a viewer or another department: lists, counts, lookups, node(id:), a subscription request, its rows', async () => {
    for (const who of ['viewer', 'otherSteward']) {
      const data = await callers[who].ok(READ, { draft: draftId, mount: mountId });
      expect({ who, data }).toEqual({
        who,
        data: {
          directory: null,
          directories: { totalCount: 1, edges: [{ node: { code: 'PUB-1' } }] },
          drafts: { totalCount: 0 },
          department: { directories: { totalCount: 1, edges: [{ node: { code: 'PUB-1' } }] } },
          region: { directories: { totalCount: 1 } },
          draft: null,
          mount: null,
        },
      });
      const rows = await http(api, '/directories/DRAFT-1/rows.csv', { token: tokens[who] });
      expect({ who, status: rows.status, body: JSON.parse(rows.body.toString()) }).toEqual({
        who,
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'Directory DRAFT-1 does not exist.' } },
      });
    }
    // Asked for as another department's steward: answered as for a code without a directory, not "not published".
    const asked = await callers.otherSteward.request(`mutation { requestSubscription(input: { directory: { code: "DRAFT-1" }, purpose: "社保核验" }) { id } }`);
    expect(asked.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['NOT_FOUND', 'Directory DRAFT-1 does not exist.']]);
  });

  it("is answered to a viewer or another department's steward who writes to it as a missing directory or mount, not FORBIDDEN naming its department", async () => {
    const missingMount = toGlobalId('Mount', 999999);
    const writes = (code: string, mountId: string) => [
      `mutation { updateDirectory(input: { directory: { code: "${code}" }, summary: "x" }) { code } }`,
      `mutation { publishDirectory(input: { directory: { code: "${code}" } }) { code } }`,
      `mutation { withdrawDirectory(input: { directory: { code: "${code}" } }) { code } }`,
      `mutation { mountDataset(input: { directory: { code: "${code}" }, kind: TABLE, locator: "t_x", recordCount: 1 }) { id } }`,
      `mutation { refreshMount(input: { mountId: "${mountId}", recordCount: 1 }) { id } }`,
      `mutation { unmountDataset(input: { mountId: "${mountId}" }) { id } }`,
      `mutation($rows: [JSONObject!]!) { appendDatasetRows(input: { mountId: "${mountId}", rows: $rows }) { createdAt } }`,
    ];
    const answers = async (caller: ApiClient, code: string, mountId: string) => {
      const out: unknown[] = [];
      for (const write of writes(code, mountId)) {
        const { errors } = await caller.request(write, { rows: [{ 名称: 'x' }] });
        out.push(errors?.map((e) => [e.extensions?.code, e.message.replace(code, '<code>')]));
      }
      return out;
    };
    for (const who of ['viewer', 'otherSteward']) {
      const draft = await answers(callers[who], 'DRAFT-1', mountId);
      expect({ who, draft }).toEqual({ who, draft: await answers(callers[who], 'NO-SUCH-1', missingMount) });
    }
    // Another department's steward gets NOT_FOUND on every one (it got FORBIDDEN naming 殷都区民政局 before).
    expect(await answers(callers.otherSteward, 'DRAFT-1', mountId)).toEqual([
      ...Array(4).fill([['NOT_FOUND', 'Directory <code> does not exist.']]),
      ...Array(3).fill([['NOT_FOUND', 'This mount does not exist.']]),
    ]);
    // Nothing was changed: its own steward still reads the draft and its mount as they were.
    const data = await callers.ownSteward.ok(READ, { draft: draftId, mount: mountId });
    expect(data).toMatchObject({ directory: { code: 'DRAFT-1' }, drafts: { totalCount: 1 }, mount: { id: mountId } });
  });

  // Last: it adds departments. A steward's lists filter by its own department's drafts in their one statement.
  it("costs a steward's drill-down the same statements however many departments and drafts the region holds", async () => {
    const query = `{ region(code: "410505") { directories(first: 50) { totalCount } departments(first: 50) { edges { node { directories(first: 50) { totalCount edges { node { code } } } } } } } }`;
    // Each asked once after a change: a repeat would be answered by the response cache.
    const statements = async () => {
      api.sql.reset();
      const data = await callers.ownSteward.ok<{ region: { directories: { totalCount: number } } }>(query);
      return { count: api.sql.count, totalCount: data.region.directories.totalCount };
    };
    const before = await statements();
    expect(before.totalCount).toBe(2);
    for (let n = 3; n <= 6; n++) {
      await createDepartment(api, { creditCode: creditCode('410505', n), name: `部门${n}`, regionCode: '410505' });
      await addDirectory(api, creditCode('410505', n), `MORE-${n}`);
      await addDirectory(api, creditCode('410505', n), `MORE-DRAFT-${n}`, { publish: false });
    }
    // Its own draft and every published directory; the other departments' drafts left out; as many statements.
    expect(await statements()).toEqual({ count: before.count, totalCount: 2 + 4 });
  });
});

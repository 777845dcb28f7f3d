import { addDirectory, createDepartment, createRegions, creditCode } from '../support/builders';
import { http } from '../support/http';
import { startTestServer, type TestServer } from '../support/test-server';

const REGISTER = `mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id code informationItems { name } } }`;

describe('text hygiene on every string argument and input field (findings 5, 6, 9)', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);
  const directory = (code: string, overrides: Record<string, unknown> = {}) => ({
    code,
    name: `资源 ${code}`,
    departmentCreditCode: dept,
    resourceFormat: 'DATABASE',
    shareType: 'UNCONDITIONAL',
    updateCycle: 'MONTHLY',
    informationItems: [{ name: '名称', dataType: '字符型' }],
    ...overrides,
  });

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '殷都区人社局', regionCode: '410505' });
    await addDirectory(api, dept, 'TXT-1');
  });
  afterAll(() => api.close());

  it('finding 5: a NUL or other control character in any text is BAD_USER_INPUT naming the field, never a 500', async () => {
    const cases: [string, Record<string, unknown> | undefined, string][] = [
      [REGISTER, { input: directory('TXT-2', { name: 'a\u0000b' }) }, 'input.name'],
      [REGISTER, { input: directory('TXT-2', { summary: 'bell\u0007' }) }, 'input.summary'],
      [REGISTER, { input: directory('TXT-2', { informationItems: [{ name: 'x\u001b', dataType: 't' }] }) }, 'input.informationItems[0].name'],
      [
        `mutation { mountDataset(input: { directory: { code: "TXT-1" }, kind: TABLE, locator: "a\\u0000", recordCount: 1 }) { id } }`,
        undefined,
        'input.locator',
      ],
      [`{ directories(first: 5, filter: { text: "\\u0000" }) { edges { node { code } } } }`, undefined, 'filter.text'],
      [`{ region(code: "41\\u00000") { code } }`, undefined, 'code'],
      [`{ node(id: "\\u0000") { id } }`, undefined, 'id'],
      [`mutation { createApiKey(input: { name: "k\\u0000", departmentCreditCode: "${dept}" }) { secret } }`, undefined, 'input.name'],
    ];
    for (const [query, variables, field] of cases) {
      const response = await api.request(query, variables);
      expect([field, response.errors?.[0].extensions?.code]).toEqual([field, 'BAD_USER_INPUT']);
      expect(response.errors?.[0].message).toContain(field);
    }
    // Tab and newline are text; CRLF is kept as LF.
    const ok = await api.ok(REGISTER, { input: directory('TXT-3', { summary: 'a\tb\r\nc' }) });
    expect(ok.registerDirectory.code).toBe('TXT-3');
    expect((await api.ok(`{ directory(code: "TXT-3") { summary } }`)).directory.summary).toBe('a\tb\nc');
  });

  it("a NUL in a REST route's path or query string is BAD_USER_INPUT naming it, not a 503 from the broken statement", async () => {
    const month = new Date().toISOString().slice(0, 7);
    for (const [path, field] of [
      [`/reports/41%0005/${month}/resources.csv`, 'regionCode'],
      [`/reports/410505/${month}/resources.csv?x=a%00b`, 'x'],
      [`/imports/directories/template.csv?sheet=%01`, 'sheet'],
    ]) {
      const answer = await http(api, path);
      expect([path, answer.status, answer.json().error.code]).toEqual([path, 400, 'BAD_USER_INPUT']);
      expect(answer.json().error.message).toContain(`${field} contains the control character`);
    }
    // Clean text still reaches the database: an unknown region is NOT_FOUND.
    expect((await http(api, `/reports/410599/${month}/resources.csv`)).status).toBe(404);
  });

  it('finding 6: null for an input field that cannot be null is refused, not crashed on', async () => {
    const response = await api.request(`mutation { updateDirectory(input: { directory: { code: "TXT-1" }, name: null }) { name } }`);
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/input\.name cannot be null/);
  });

  it('finding 9: Unicode is normalised to NFC and identifier codes compared case-insensitively', async () => {
    const twice = await api.request(REGISTER, {
      input: directory('TXT-4', {
        informationItems: [
          { name: 'caf\u00e9', dataType: 't' },
          { name: 'cafe\u0301', dataType: 't' },
        ],
      }),
    });
    expect(twice.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(twice.errors?.[0].message).toMatch(/appears twice/);
    const upper = await api.ok(REGISTER, { input: directory('MZ-ABC') });
    expect(upper.registerDirectory.code).toBe('MZ-ABC');
    const lower = await api.request(REGISTER, { input: directory('mz-abc') });
    expect(lower.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await api.ok(`{ directory(code: "mz-abc") { code } }`)).directory.code).toBe('MZ-ABC');
  });

  it('a name of nothing but invisible characters is blank, and invisible characters around a name do not make a second one', async () => {
    const invisible = '\u200b\u200d\u2060\u3164';
    const blank = [
      [`mutation($v: String!) { createRegion(input: { code: "410502", name: $v }) { code } }`, 'A region needs a name.'],
      [
        `mutation($v: String!) { createDepartment(input: { creditCode: "${creditCode('410505', 2)}", name: $v, regionCode: "410505" }) { id } }`,
        'A department needs a name.',
      ],
      [
        `mutation($v: String!) { createApiKey(input: { departmentCreditCode: "${dept}", name: $v }) { secret } }`,
        'An API key needs a name saying which system uses it.',
      ],
      [
        `mutation($v: String!) { createSupervisionMainItem(input: { departmentCreditCode: "${dept}", code: "ZW-1", name: $v, legalBasis: "依据" }) { code } }`,
        'The main item name must not be empty.',
      ],
      [
        `mutation($v: String!) { registerDirectory(input: { code: "ZW-1", name: $v, departmentCreditCode: "${dept}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY }) { id } }`,
        'A directory needs a name.',
      ],
    ] as const;
    for (const [document, message] of blank) {
      const response = await api.request(document, { v: invisible });
      expect([response.errors?.[0].extensions?.code, response.errors?.[0].message]).toEqual(['BAD_USER_INPUT', message]);
    }
    const twin = await api.request(
      `mutation($v: String!) { createDepartment(input: { creditCode: "${creditCode('410505', 3)}", name: $v, regionCode: "410505" }) { id } }`,
      {
        v: '\u200b殷都区人社局\ufeff',
      },
    );
    expect(twin.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: 'Region 410505 already has a department named "殷都区人社局".' });
    const items = await api.request(REGISTER, {
      input: directory('ZW-2', {
        informationItems: [
          { name: '名称', dataType: '字符型' },
          { name: '名称\u200b', dataType: '字符型' },
        ],
      }),
    });
    expect(items.errors?.[0].message).toBe('Information item "名称" appears twice; names must be unique within a directory.');
    expect(
      await api.orm.em
        .fork()
        .execute(`select count(*)::int as n from department where credit_code in (?, ?)`, [creditCode('410505', 2), creditCode('410505', 3)]),
    ).toEqual([{ n: 0 }]);
  });

  it('names lose the characters that show as nothing anywhere (direction controls, zero-width joiners); codes holding one are refused', async () => {
    const createDepartment = (n: number, name: string) =>
      api.request<{ createDepartment: { name: string } | null }>(
        `mutation($v: String!) { createDepartment(input: { creditCode: "${creditCode('410505', n)}", name: $v, regionCode: "410505" }) { name } }`,
        { v: name },
      );
    // A zero-width joiner or space inside made a second department that looks like the first.
    for (const [n, name] of [
      [4, '殷都区\u200D人社局'],
      [5, '殷都\u200B区人社局'],
      [6, '殷都区人\u202E社局'],
    ] as const) {
      const twin = await createDepartment(n, name);
      expect(twin.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' }, message: 'Region 410505 already has a department named "殷都区人社局".' });
    }
    // A telephone number pasted from Windows (U+202A..U+202C around it) is kept without them; an override left open is dropped.
    expect((await createDepartment(7, '殷都区医保局 \u202A0372-5551234\u202C')).data).toEqual({ createDepartment: { name: '殷都区医保局 0372-5551234' } });
    expect((await createDepartment(8, '\u202E局保医')).data).toEqual({ createDepartment: { name: '局保医' } });
    // Found by a search for the name as it shows.
    const found = await api.request<{ directories: { totalCount: number } }>(`query($t: String!) { directories(filter: { text: $t }) { totalCount } }`, {
      t: '资源\u202A TXT-1',
    });
    expect(found.data).toEqual({ directories: { totalCount: 1 } });
    // The search's %, _ and backslash are the characters themselves, not LIKE's wildcards.
    for (const [text, totalCount] of [
      ['%', 0],
      ['_', 0],
      ['\\', 0],
      ['TXT_1', 0],
      ['TXT-1', 1],
    ] as const) {
      const search = await api.request(`query($t: String!) { directories(filter: { text: $t }) { totalCount } }`, { t: text });
      expect({ text, data: search.data }).toEqual({ text, data: { directories: { totalCount } } });
    }
    // Codes are identifiers: a direction control or zero-width character inside is refused on every code's form.
    const codes = [
      [REGISTER, { input: directory('BD\u202E-1') }],
      [
        `mutation($v: String!) { createSupervisionMainItem(input: { departmentCreditCode: "${dept}", code: $v, name: "事项", legalBasis: "依据" }) { code } }`,
        { v: 'M\u2066-1' },
      ],
      [`mutation($v: String!) { createRegion(input: { code: $v, name: "区" }) { code } }`, { v: '4105\u202E06' }],
      [
        `mutation($v: String!) { createDepartment(input: { creditCode: $v, name: "殷都区某局", regionCode: "410505" }) { id } }`,
        { v: `${creditCode('410505', 9).slice(0, 9)}\u202D${creditCode('410505', 9).slice(9)}` },
      ],
    ] as const;
    for (const [document, variables] of codes) {
      const answer = await api.request(document, variables);
      expect({ document, codes: answer.errors?.map((e) => e.extensions?.code) }).toEqual({ document, codes: ['BAD_USER_INPUT'] });
    }
  });

  it('finding 9: dates outside 1900..2100, and events more than a day ahead, are refused', async () => {
    const mountId = (await api.ok(`mutation { mountDataset(input: { directory: { code: "TXT-1" }, kind: TABLE, locator: "t", recordCount: 1 }) { id } }`))
      .mountDataset.id;
    const refresh = (at: string) =>
      api.request(`mutation($input: RefreshMountInput!) { refreshMount(input: $input) { recordCount } }`, {
        input: { mountId, recordCount: 2, refreshedAt: at },
      });
    const ancient = await refresh('0001-01-01T00:00:00Z');
    expect(ancient.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(ancient.errors?.[0].message).toMatch(/input\.refreshedAt/);
    expect((await refresh(new Date(Date.now() - 3600_000).toISOString())).errors).toBeUndefined();

    // A calendar day (LocalDate) too: a subscription's end date.
    const other = creditCode('410505', 4);
    await createDepartment(api, { creditCode: other, name: '殷都区民政局', regionCode: '410505' });
    const farOff = await api.request(`mutation($input: RequestSubscriptionInput!) { requestSubscription(input: $input) { id } }`, {
      input: { directory: { code: 'TXT-1' }, purpose: '社会救助审核', requesterCreditCode: other, endDate: '9999-12-31' },
    });
    expect(farOff.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: 'input.endDate 9999-12-31T00:00:00.000Z is out of range: dates run from 1900 to 2100.',
    });
    expect(await api.orm.em.fork().execute(`select count(*)::int as n from subscription_request`)).toEqual([{ n: 0 }]);
  });
});

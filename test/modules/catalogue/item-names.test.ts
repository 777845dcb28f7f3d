import { createDepartment, createRegions, creditCode, errorCodes, HENAN_ANYANG_YINDU } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A file's column, an NDJSON or GraphQL row's key finds its item by
 * columnKey (full-width and compatibility characters folded, ends trimmed).
 * Two items of one directory with one key would let the same header name
 * one item on one route and the other on another (CSV trimmed its header
 * first and found "ID" by its exact name, a row's key "ID " fell to the
 * key and found "ＩＤ"), so a directory may not hold them.
 */
describe('information item names', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  const register = (code: string, names: string[]) =>
    api.request(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { code } }`, {
      input: {
        code,
        name: '低保对象',
        departmentCreditCode: A,
        resourceFormat: 'DATABASE',
        shareType: 'UNCONDITIONAL',
        updateCycle: 'MONTHLY',
        informationItems: names.map((name) => ({ name, dataType: '字符型' })),
      },
    });

  it('are unique as files and rows name them: full-width, compatibility or invisible-character spellings of one name are refused', async () => {
    const pairs = [
      ['ID', 'ＩＤ'],
      ['面积(m²)', '面积（m2）'],
      ['ﬁle', 'file'],
    ];
    for (const [i, [first, second]] of pairs.entries()) {
      const answer = await register(`N-${i}`, [first, second]);
      expect({ pair: [first, second], codes: errorCodes(answer), message: answer.errors?.[0]?.message }).toEqual({
        pair: [first, second],
        codes: ['BAD_USER_INPUT'],
        message: `Information items "${first}" and "${second}" differ only in full-width or compatibility characters, so a file's column or a row's key would name either; names must be unique within a directory.`,
      });
    }
    const updated = await (async () => {
      await api.ok(
        `mutation { registerDirectory(input: { code: "N-U", name: "低保对象", departmentCreditCode: "${A}", resourceFormat: DATABASE, shareType: UNCONDITIONAL, updateCycle: MONTHLY, informationItems: [{ name: "ID", dataType: "字符型" }] }) { code } }`,
      );
      return api.request(
        `mutation { updateDirectory(input: { directory: { code: "N-U" }, informationItems: [{ name: "ID", dataType: "字符型" }, { name: "ＩＤ", dataType: "字符型" }] }) { code } }`,
      );
    })();
    expect(errorCodes(updated)).toEqual(['BAD_USER_INPUT']);
    // The same name twice keeps its message; different names stay different items.
    expect((await register('N-T', ['ID', 'ID'])).errors?.[0]?.message).toBe('Information item "ID" appears twice; names must be unique within a directory.');
    // A zero-width joiner, space or soft hyphen inside is no part of a name (trimText): two columns that look the same are one name twice.
    for (const [i, second] of ['金\u200D额', '金\u200B额', '金\u00AD额', '金\u202E额'].entries()) {
      expect((await register(`N-Z${i}`, ['金额', second])).errors?.[0]?.message).toBe(
        'Information item "金额" appears twice; names must be unique within a directory.',
      );
    }
    expect(errorCodes(await register('N-OK', ['ID', 'ID2', '姓名']))).toEqual([]);
  });
});

import { ItemValueType } from '../../../src/modules/catalogue/directory.entity';
import { valueTypeOf } from '../../../src/modules/catalogue/item-value-type';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/** Data type texts that name members of Object.prototype: a steward may type anything as 数据类型. */
const PROTOTYPE_WORDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

describe('an item data type text is inferred from the listed words only', () => {
  it('reads text naming an Object.prototype member as a string type, and the listed words as theirs', () => {
    for (const dataType of PROTOTYPE_WORDS)
      expect({ dataType, type: valueTypeOf({ dataType, valueType: undefined }) }).toEqual({ dataType, type: ItemValueType.STRING });
    expect(valueTypeOf({ dataType: ' 数值 型 ', valueType: undefined })).toBe(ItemValueType.DECIMAL);
    expect(valueTypeOf({ dataType: 'Int', valueType: undefined })).toBe(ItemValueType.INTEGER);
  });

  describe('through the API', () => {
    let api: TestServer;
    const A = creditCode('410505', 1);
    beforeAll(async () => {
      api = await startTestServer();
      await createRegions(api, HENAN_ANYANG_YINDU);
      await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    });
    afterAll(() => api.close());

    it('registers, lists and loads a directory whose items are typed so', async () => {
      await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { code } }`, {
        input: {
          code: 'D-TYPES',
          name: '类型',
          departmentCreditCode: A,
          resourceFormat: 'DATABASE',
          shareType: 'UNCONDITIONAL',
          updateCycle: 'MONTHLY',
          informationItems: PROTOTYPE_WORDS.map((dataType, i) => ({ name: `项${i}`, dataType })),
        },
      });
      await api.ok(`mutation { publishDirectory(input: { directory: { code: "D-TYPES" } }) { status } }`);
      // Before, the catalogue page of every caller answered data: null once such a directory was published.
      const listed = await api.request(`{ directories(first: 10) { edges { node { code informationItems { name valueType } } } } }`);
      expect(listed.errors).toBeUndefined();
      expect(listed.data!.directories.edges).toEqual([
        { node: { code: 'D-TYPES', informationItems: PROTOTYPE_WORDS.map((_, i) => ({ name: `项${i}`, valueType: 'STRING' })) } },
      ]);
      const mounted = await api.ok<{ mountDataset: { id: string } }>(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
        input: { directory: { code: 'D-TYPES' }, kind: 'TABLE', locator: 'mulu:D-TYPES', hosted: true },
      });
      const row = Object.fromEntries(PROTOTYPE_WORDS.map((_, i) => [`项${i}`, `v${i}`]));
      const loaded = await api.request(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { rowsLoaded rowsRejected } }`, {
        input: { mountId: mounted.mountDataset.id, rows: [row] },
      });
      expect(loaded).toEqual({ data: { appendDatasetRows: { rowsLoaded: 1, rowsRejected: 0 } } });
      const read = await api.request(`{ directory(code: "D-TYPES") { rows(first: 5) { edges { node { values } } } } }`);
      expect(read.errors).toBeUndefined();
      expect(read.data!.directory.rows.edges).toEqual([{ node: { values: row } }]);
    });
  });
});

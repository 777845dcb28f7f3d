import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { createMainItems, createSubItems, ingest, INGEST, records } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

describe('supervision items and records', () => {
  let api: TestServer;
  const dept = creditCode('410505', 1);
  const other = creditCode('410505', 2);

  const stats = async (code = dept) =>
    (
      await api.ok<{
        department: { supervisionStats: { mainItems: number; coveredMainItems: number; subItems: number; coveredSubItems: number; records: number } };
      }>(`query($c: String!) { department(creditCode: $c) { supervisionStats { mainItems coveredMainItems subItems coveredSubItems records } } }`, { c: code })
    ).department.supervisionStats;
  const subItem = async (code: string) => {
    const data = await api.ok<{
      department: { supervisionMainItems: { edges: { node: { code: string; subItems: { code: string; recordCount: number; covered: boolean }[] } }[] } };
    }>(
      `query($c: String!) { department(creditCode: $c) { supervisionMainItems(first: 50) { edges { node { code subItems { code recordCount covered } } } } } }`,
      { c: dept },
    );
    for (const edge of data.department.supervisionMainItems.edges) {
      const found = edge.node.subItems.find((s) => s.code === code);
      if (found) return { mainItem: edge.node.code, ...found };
    }
    return null;
  };

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: dept, name: '区市场监管局', regionCode: '410505' });
    await createDepartment(api, { creditCode: other, name: '区司法局', regionCode: '410505' });
    await createMainItems(api, dept, [{ code: 'M1' }, { code: 'M2' }, { code: 'M3' }]);
    await createSubItems(api, dept, [
      { code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' },
      { code: 'S2', mainItemCode: 'M1', category: 'PENALTY' },
      { code: 'S3', mainItemCode: 'M2', category: 'COERCION' },
      { code: 'S4', mainItemCode: 'M3', category: 'OTHER' },
      { code: 'S5', mainItemCode: 'M3', category: 'INSPECTION' },
      { code: 'S6', mainItemCode: 'M3', category: 'INSPECTION' },
    ]);
    await createMainItems(api, other, [{ code: 'M1' }]);
    await createSubItems(api, other, [{ code: 'X1', mainItemCode: 'M1', category: 'INSPECTION' }]);
  });

  afterAll(() => api.close());

  describe('items', () => {
    it('refuses a second main item or sub-item with the same code in a department, but allows it in another', async () => {
      const main = await api.request(
        `mutation { createSupervisionMainItem(input: { departmentCreditCode: "${dept}", code: "M1", name: "x", legalBasis: "y" }) { code } }`,
      );
      expect(main.errors?.[0].extensions?.code).toBe('CONFLICT');
      expect(main.errors?.[0].message).toMatch(/already has a supervision main item with code "M1"/);
      const sub = await api.request(
        `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${dept}", mainItemCode: "M2", code: "S1", name: "x", category: OTHER }) { code } }`,
      );
      expect(sub.errors?.[0].extensions?.code).toBe('CONFLICT');
      const elsewhere = await api.ok<{ createSupervisionSubItem: { code: string; department: { name: string }; mainItem: { code: string } } }>(
        `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${other}", mainItemCode: "M1", code: "S1", name: "x", category: OTHER }) { code department { name } mainItem { code } } }`,
      );
      expect(elsewhere.createSupervisionSubItem).toEqual({ code: 'S1', department: { name: '区司法局' }, mainItem: { code: 'M1' } });
    });

    it('refuses item codes that would look like another code (inner or zero-width spaces, a line break) and takes a full-width code for the code it folds to, storing nothing', async () => {
      const before = await stats();
      const MAIN = `mutation($code: String!) { createSupervisionMainItem(input: { departmentCreditCode: "${dept}", code: $code, name: "x", legalBasis: "y" }) { code } }`;
      const SUB = `mutation($code: String!) { createSupervisionSubItem(input: { departmentCreditCode: "${dept}", mainItemCode: "M1", code: $code, name: "x", category: OTHER }) { code } }`;
      for (const [document, code] of [
        [MAIN, 'M 1'],
        [MAIN, 'M\u200b1'],
        [SUB, 'S1\nS2'],
        [SUB, 'S\u00a01'],
      ]) {
        const response = await api.request(document, { code });
        expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(response.errors?.[0].message).toMatch(/is not a valid (main item|sub-item) code: a code holds no space, line break or invisible character\.$/);
      }
      // Ｍ１ typed in full-width mode is M1 (identifierCode), which the department already has.
      const fullWidth = await api.request(MAIN, { code: 'Ｍ１' });
      expect(fullWidth.errors?.[0].extensions?.code).toBe('CONFLICT');
      expect(fullWidth.errors?.[0].message).toMatch(/already has a supervision main item with code "M1"/);
      expect(await stats()).toEqual(before);
    });

    it('names a missing main item or department in NOT_FOUND, and a bad credit code in BAD_USER_INPUT', async () => {
      const noMain = await api.request(
        `mutation { createSupervisionSubItem(input: { departmentCreditCode: "${dept}", mainItemCode: "NOPE", code: "Z", name: "x", category: OTHER }) { code } }`,
      );
      expect(noMain.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      expect(noMain.errors?.[0].message).toMatch(/no supervision main item with code "NOPE"/);
      const noDept = await api.request(
        `mutation { createSupervisionMainItem(input: { departmentCreditCode: "${creditCode('410505', 99)}", code: "M", name: "x", legalBasis: "y" }) { code } }`,
      );
      expect(noDept.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const badCode = await api.request(
        `mutation { createSupervisionMainItem(input: { departmentCreditCode: "12345", code: "M", name: "x", legalBasis: "y" }) { code } }`,
      );
      expect(badCode.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('lists main items with their sub-items, paged', async () => {
      const data = await api.ok<{
        department: {
          supervisionMainItems: { edges: { node: { code: string; subItems: { code: string; category: string }[] } }[]; pageInfo: { hasNextPage: boolean } };
        };
      }>(
        `query($c: String!) { department(creditCode: $c) { supervisionMainItems(first: 2) { edges { node { code subItems { code category } } } pageInfo { hasNextPage } } } }`,
        { c: dept },
      );
      expect(data.department.supervisionMainItems.edges.map((e) => [e.node.code, e.node.subItems.map((s) => s.code)])).toEqual([
        ['M1', ['S1', 'S2']],
        ['M2', ['S3']],
      ]);
      expect(data.department.supervisionMainItems.pageInfo.hasNextPage).toBe(true);
    });
  });

  describe('records', () => {
    it('stores a batch, counts it, and counts a re-sent batch once, reporting duplicates', async () => {
      const batch = records('S1', 3);
      expect(await ingest(api, dept, batch)).toEqual({ received: 3, accepted: 3, duplicates: 0, duplicateIndexes: [], rejected: [], stored: true });
      expect(await ingest(api, dept, [...batch, ...records('S1', 1, 'S1-new')])).toEqual({
        received: 4,
        accepted: 1,
        duplicates: 3,
        duplicateIndexes: [0, 1, 2],
        rejected: [],
        stored: true,
      });
      // The same record twice in one batch is stored once.
      const twice = records('S2', 1);
      expect(await ingest(api, dept, [...twice, ...twice])).toMatchObject({ accepted: 1, duplicates: 1, duplicateIndexes: [1] });
      expect(await stats()).toEqual({ mainItems: 3, coveredMainItems: 1, subItems: 6, coveredSubItems: 2, records: 5 });
    });

    it('takes one record at a time too, with a free-form payload', async () => {
      const result = await ingest(api, dept, [
        {
          subItemCode: 'S3',
          source: 'xinyong',
          externalId: 'one',
          occurredAt: '2023-06-01T00:00:00Z',
          payload: { inspector: '张三', result: { passed: true } },
        },
      ]);
      expect(result).toMatchObject({ accepted: 1, stored: true });
      expect(await stats()).toMatchObject({ coveredMainItems: 2, coveredSubItems: 3, records: 6 });
    });

    it('stores nothing of a batch with one bad record, and reports it with its index', async () => {
      const before = await stats();
      const batch = [
        ...records('S4', 2, 'bad-batch'),
        { subItemCode: 'S4', source: 'zhifa', externalId: 'future', occurredAt: '2999-01-01T00:00:00Z' },
        ...records('S5', 1, 'bad-batch-2'),
      ];
      const result = await ingest(api, dept, batch);
      expect(result).toMatchObject({ received: 4, accepted: 0, stored: false, duplicates: 0 });
      expect(result.rejected).toEqual([{ index: 2, reason: expect.stringMatching(/happened in the future/) }]);
      expect(await stats()).toEqual(before);
      // The same batch resent whole after the fix is stored: nothing of it was kept before.
      batch[2].occurredAt = '2023-06-02T00:00:00Z';
      expect(await ingest(api, dept, batch)).toMatchObject({ accepted: 4, duplicates: 0, stored: true });
      expect(await stats()).toMatchObject({ coveredSubItems: before.coveredSubItems + 2, records: before.records + 4 });
    });

    it('stores the good records of a bad batch when asked for partial acceptance', async () => {
      const before = await stats();
      const result = await ingest(
        api,
        dept,
        [...records('S6', 2, 'partial'), { subItemCode: 'NOPE', source: 'zhifa', externalId: 'partial-x', occurredAt: '2023-06-02T00:00:00Z' }],
        true,
      );
      expect(result).toMatchObject({ received: 3, accepted: 2, stored: true });
      expect(result.rejected).toEqual([{ index: 2, reason: expect.stringMatching(/no supervision sub-item with code "NOPE"/) }]);
      expect(await stats()).toMatchObject({ records: before.records + 2, coveredSubItems: before.coveredSubItems + 1 });
    });

    it('rejects a record dated before 1900 by its index, as every date of the API runs from 1900, and keeps the rest under partial acceptance', async () => {
      const before = await stats();
      // 0000-01-01 (a placeholder for "unknown") has no year in PostgreSQL: it failed the whole call, partial or not;
      // 0001-01-01 was stored and counted.
      const batch = [
        { subItemCode: 'S1', source: 'zhifa', externalId: 'year-0', occurredAt: '0000-01-01T00:00:00Z' },
        { subItemCode: 'S1', source: 'zhifa', externalId: 'year-1', occurredAt: '0001-01-01T00:00:00Z' },
        { subItemCode: 'S1', source: 'zhifa', externalId: 'year-1899', occurredAt: '1899-12-31T23:59:59Z' },
        { subItemCode: 'S1', source: 'zhifa', externalId: 'year-1900', occurredAt: '1900-01-01T00:00:00Z' },
      ];
      const result = await ingest(api, dept, batch, true);
      expect(result).toMatchObject({ received: 4, accepted: 1, duplicates: 0, stored: true });
      expect(result.rejected).toEqual(
        [0, 1, 2].map((index) => ({ index, reason: expect.stringMatching(/: it happened before 1900 \(.*\); dates run from 1900\.$/) })),
      );
      expect(await stats()).toMatchObject({ records: before.records + 1 });
    });

    it('answers stored: true under partial acceptance even when every record is rejected, and false only for a batch refused whole', async () => {
      const before = await stats();
      const bad = [
        { subItemCode: 'NOPE', source: 'zhifa', externalId: 'all-bad-0', occurredAt: '2023-06-02T00:00:00Z' },
        { subItemCode: 'S1', source: 'zhifa', externalId: 'all-bad-1', occurredAt: '2999-01-01T00:00:00Z' },
      ];
      const partial = await ingest(api, dept, bad, true);
      expect(partial).toMatchObject({ received: 2, accepted: 0, duplicates: 0, stored: true });
      expect(partial.rejected.map((r) => r.index)).toEqual([0, 1]);
      expect(await ingest(api, dept, bad, false)).toMatchObject({ accepted: 0, stored: false });
      expect(await stats()).toEqual(before);
    });

    it('rejects records for an unknown sub-item, or a sub-item of another department', async () => {
      const result = await ingest(api, dept, [
        { subItemCode: 'X1', source: 'zhifa', externalId: 'wrong-dept', occurredAt: '2023-06-02T00:00:00Z' },
        { subItemCode: 'nope', source: 'zhifa', externalId: 'unknown', occurredAt: '2023-06-02T00:00:00Z' },
        { subItemCode: 'S1', source: 'zhifa', externalId: 'nul', occurredAt: '2023-06-02T00:00:00Z', payload: { note: 'a\u0000b' } },
      ]);
      expect(result.stored).toBe(false);
      expect(result.rejected.map((r) => r.index)).toEqual([0, 1, 2]);
      expect(result.rejected[2].reason).toMatch(/NUL character/);
      expect(result.rejected[0].reason).toMatch(/区市场监管局.*no supervision sub-item with code "X1"/);
    });

    it('refuses a batch of more than 10,000 records as a whole', async () => {
      const response = await api.request(INGEST, { input: { departmentCreditCode: dept, records: records('S1', 10_001, 'too-many') } });
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toMatch(/at most 10000 records/);
    });

    it('lets a correction supersede a record: the old one stops counting, the correction counts', async () => {
      await ingest(api, dept, records('S5', 1, 'to-correct'));
      const before = await stats();
      const correction = {
        subItemCode: 'S5',
        source: 'zhifa',
        externalId: 'corrected-0',
        occurredAt: '2023-06-03T00:00:00Z',
        supersedes: { source: 'zhifa', externalId: 'to-correct-0' },
      };
      expect(await ingest(api, dept, [correction])).toMatchObject({ accepted: 1, stored: true });
      expect(await stats()).toEqual(before);
      // Retrying the correction is a duplicate, not a second correction.
      expect(await ingest(api, dept, [correction])).toMatchObject({ accepted: 0, duplicates: 1, rejected: [] });
      // A second correction of the same record is refused; the latest one may be corrected.
      const again = await ingest(api, dept, [{ ...correction, externalId: 'corrected-1' }]);
      expect(again.rejected[0].reason).toMatch(/already been superseded/);
      expect(await ingest(api, dept, [{ ...correction, externalId: 'corrected-2', supersedes: { source: 'zhifa', externalId: 'corrected-0' } }])).toMatchObject(
        { accepted: 1 },
      );
      expect(await stats()).toEqual(before);
    });

    it('refuses to correct a record of another sub-item, a record never received, or one of the same batch', async () => {
      await ingest(api, dept, records('S4', 1, 'lonely'));
      const wrongItem = await ingest(api, dept, [
        {
          subItemCode: 'S3',
          source: 'zhifa',
          externalId: 'moved',
          occurredAt: '2023-06-03T00:00:00Z',
          supersedes: { source: 'zhifa', externalId: 'lonely-0' },
        },
      ]);
      expect(wrongItem.rejected[0].reason).toMatch(/a record of sub-item "S4"; a correction must be for the same sub-item/);
      const missing = await ingest(api, dept, [
        { subItemCode: 'S4', source: 'zhifa', externalId: 'x', occurredAt: '2023-06-03T00:00:00Z', supersedes: { source: 'zhifa', externalId: 'never-sent' } },
      ]);
      expect(missing.rejected[0].reason).toMatch(/no record with that source and external id has been received/);
      const sameBatch = await ingest(api, dept, [
        ...records('S4', 1, 'first'),
        {
          subItemCode: 'S4',
          source: 'zhifa',
          externalId: 'second',
          occurredAt: '2023-06-03T00:00:00Z',
          supersedes: { source: 'zhifa', externalId: 'first-0' },
        },
      ]);
      expect(sameBatch.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/in this same batch/) }]);
    });

    it('moves a sub-item to another main item, and main-item coverage follows it', async () => {
      await createMainItems(api, dept, [{ code: 'M4' }]);
      await createSubItems(api, dept, [{ code: 'S7', mainItemCode: 'M4', category: 'PENALTY' }]);
      const before = await stats();
      expect(before).toMatchObject({ mainItems: 4, coveredMainItems: 3 });
      // S3 (covered) is M2's only sub-item: moving it to M4 uncovers M2 and covers M4.
      const moved = await api.ok<{ moveSupervisionSubItem: { code: string; mainItem: { code: string } } }>(
        `mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${dept}", subItemCode: "S3", toMainItemCode: "M4" }) { code mainItem { code } } }`,
      );
      expect(moved.moveSupervisionSubItem).toEqual({ code: 'S3', mainItem: { code: 'M4' } });
      expect(await subItem('S3')).toMatchObject({ mainItem: 'M4', covered: true });
      expect(await stats()).toEqual(before);
      // Moving S1 away from M1 leaves M1 covered through S2; moving S2 too uncovers M1 (M2 has nothing left either).
      await api.ok(`mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${dept}", subItemCode: "S1", toMainItemCode: "M4" }) { code } }`);
      await api.ok(`mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${dept}", subItemCode: "S2", toMainItemCode: "M4" }) { code } }`);
      expect(await stats()).toEqual({ ...before, coveredMainItems: before.coveredMainItems - 1 });
      const nowhere = await api.request(
        `mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${dept}", subItemCode: "S1", toMainItemCode: "M9" }) { code } }`,
      );
      expect(nowhere.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    });

    it('counts the same batch sent at once over two connections exactly once', async () => {
      await createSubItems(api, dept, [
        { code: 'C1', mainItemCode: 'M1', category: 'INSPECTION' },
        { code: 'C2', mainItemCode: 'M1', category: 'PENALTY' },
      ]);
      const before = await stats();
      const batch = [...records('C1', 1500, 'race'), ...records('C2', 1500, 'race2')];
      const reversed = [...batch].reverse();
      const results = await Promise.all([ingest(api, dept, batch), ingest(api, dept, reversed), ingest(api, dept, batch)]);
      expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(3000);
      expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(6000);
      expect(await stats()).toMatchObject({ records: before.records + 3000, coveredSubItems: before.coveredSubItems + 2 });
      expect((await subItem('C1'))?.recordCount).toBe(1500);
    });

    it('rejects a record sent again under a stored key with other values, naming them, and keeps counting the stored one', async () => {
      await createSubItems(api, dept, [
        { code: 'R1', mainItemCode: 'M2', category: 'INSPECTION' },
        { code: 'R2', mainItemCode: 'M2', category: 'PENALTY' },
      ]);
      const first = {
        subItemCode: 'R1',
        source: 'zhifa',
        externalId: 'resent-0',
        occurredAt: '2023-06-15T08:00:00Z',
        payload: { inspector: '张三', passed: true },
      };
      expect(await ingest(api, dept, [first])).toMatchObject({ accepted: 1, stored: true });
      const before = await stats();
      // The same values, the payload's keys in another order: a retry.
      expect(await ingest(api, dept, [{ ...first, payload: { passed: true, inspector: '张三' } }])).toMatchObject({
        accepted: 0,
        duplicates: 1,
        rejected: [],
        stored: true,
      });
      const moved = { ...first, subItemCode: 'R2', occurredAt: '2023-06-16T08:00:00Z' };
      expect(await ingest(api, dept, [...records('R2', 1, 'resent-new'), moved])).toEqual({
        received: 2,
        accepted: 0,
        duplicates: 0,
        duplicateIndexes: [],
        rejected: [
          {
            index: 1,
            reason:
              'Record 1 (zhifa/resent-0): a stored record has the same source and external id but another sub-item (stored: "R1"), occurredAt (stored: 2023-06-15T08:00:00.000Z); a stored record is never rewritten: send the corrected values as a new record (its own external id) that supersedes it.',
          },
        ],
        stored: false,
      });
      const otherPayload = await ingest(api, dept, [...records('R2', 1, 'resent-new'), { ...first, payload: { inspector: '李四', passed: true } }], true);
      expect(otherPayload).toMatchObject({ accepted: 1, duplicates: 0, stored: true });
      expect(otherPayload.rejected.map((r) => [r.index, r.reason.match(/another (.*?);/)?.[1]])).toEqual([[1, 'payload']]);
      // Twice in one batch with other values: the first is stored, the second rejected.
      const twice = await ingest(api, dept, [...records('R2', 1, 'twice'), { ...records('R2', 1, 'twice')[0], occurredAt: '2023-06-17T08:00:00Z' }], true);
      expect(twice).toMatchObject({ accepted: 1, duplicates: 0 });
      expect(twice.rejected.map((r) => r.reason)).toEqual([
        'Record 1 (zhifa/twice-0): record 0 of this batch has the same source and external id but another occurredAt (record 0: 2023-06-15T08:00:00.000Z); a stored record is never rewritten: send the corrected values as a new record (its own external id) that supersedes it.',
      ]);
      expect(await stats()).toEqual({ ...before, coveredSubItems: before.coveredSubItems + 1, records: before.records + 2 });
      expect((await subItem('R1'))?.recordCount).toBe(1);
      expect((await subItem('R2'))?.recordCount).toBe(2);
    });

    it('tells which of two calls racing with one key and other values lost, and stores nothing of its batch', async () => {
      const before = await stats();
      const racing = (occurredAt: string) => [
        ...records('R1', 500, `race-${occurredAt}`),
        { subItemCode: 'R1', source: 'zhifa', externalId: 'raced', occurredAt },
      ];
      const results = await Promise.all([ingest(api, dept, racing('2023-06-01T00:00:00Z')), ingest(api, dept, racing('2023-06-02T00:00:00Z'))]);
      expect(results.map((r) => r.accepted).sort((a, b) => a - b)).toEqual([0, 501]);
      const lost = results.find((r) => r.accepted === 0)!;
      expect(lost).toMatchObject({ stored: false, duplicates: 0 });
      expect(lost.rejected.map((r) => r.index)).toEqual([500]);
      expect(lost.rejected[0].reason).toMatch(
        /^Record 500 \(zhifa\/raced\): a (stored record|record stored by a call running at the same time) has the same source and external id but another occurredAt/,
      );
      expect(await stats()).toEqual({ ...before, records: before.records + 501 });
    });

    it('lets only one of two concurrent corrections of a record win', async () => {
      await ingest(api, dept, records('C1', 1, 'contested'));
      const before = await stats();
      const correction = (id: string) => ({
        subItemCode: 'C1',
        source: 'zhifa',
        externalId: id,
        occurredAt: '2023-06-03T00:00:00Z',
        supersedes: { source: 'zhifa', externalId: 'contested-0' },
      });
      const results = await Promise.all([ingest(api, dept, [correction('fix-a')]), ingest(api, dept, [correction('fix-b')])]);
      expect(results.map((r) => r.accepted).sort()).toEqual([0, 1]);
      expect(results.find((r) => r.accepted === 0)?.rejected[0].reason).toMatch(/already been superseded/);
      expect(await stats()).toEqual(before);
    });
  });
});

describe('records of different departments', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);
  const covered = async (code: string) =>
    (await api.ok(`query($c: String!) { department(creditCode: $c) { supervisionStats { coveredSubItems records } } }`, { c: code })).department
      .supervisionStats;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    for (const code of [A, B]) {
      await createDepartment(api, { creditCode: code, name: code === A ? '区市场监管局' : '区司法局', regionCode: '410505' });
      await createMainItems(api, code, [{ code: 'M1' }]);
      await createSubItems(api, code, [{ code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' }]);
    }
  });
  afterAll(() => api.close());

  it('keeps records of two departments apart even when they share source and external id', async () => {
    expect(await ingest(api, A, records('S1', 2, 'no', 'henan-zhifa'))).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(await ingest(api, B, records('S1', 2, 'no', 'henan-zhifa'))).toMatchObject({ accepted: 2, duplicates: 0 });
    expect(await covered(A)).toEqual({ coveredSubItems: 1, records: 2 });
    expect(await covered(B)).toEqual({ coveredSubItems: 1, records: 2 });
    // A retry is still a duplicate within its own department.
    expect(await ingest(api, B, records('S1', 2, 'no', 'henan-zhifa'))).toMatchObject({ accepted: 0, duplicates: 2 });
  });

  it("does not let a department correct, or learn about, another department's records", async () => {
    const result = await ingest(api, B, [{ ...records('S1', 1, 'fix', 'other-system')[0], supersedes: { source: 'henan-zhifa', externalId: 'no-9' } }], true);
    expect(result.accepted).toBe(0);
    expect(result.rejected[0].reason).toContain('no record with that source and external id has been received');
    // A's record no-0 is only A's to correct: from B the key names B's own no-0.
    const own = await ingest(api, B, [{ ...records('S1', 1, 'fix', 'other-system')[0], supersedes: { source: 'henan-zhifa', externalId: 'no-0' } }]);
    expect(own).toMatchObject({ accepted: 1, rejected: [] });
    expect(await covered(A)).toEqual({ coveredSubItems: 1, records: 2 });
    expect(await covered(B)).toEqual({ coveredSubItems: 1, records: 2 });
  });
});

import { departmentFiguresService } from '../../../src/modules/stats/department-figures.service';
import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../../support/builders';
import { driftedFigures, figureColumns } from '../../support/figures-recount';
import { createMainItems, createSubItems, ingest, records } from '../../support/supervision-builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * department_figures is a summary kept by the services, region_figures one
 * kept from it by a trigger; after any sequence of changes, concurrent ones
 * included, both must equal a recount from the base tables written in the
 * tests (test/support/figures-recount.ts), not the production SQL.
 */
describe('department figures', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);

  const figures = async () => api.orm.em.fork().getConnection().execute(`select * from department_figures order by department_id`);

  /** Every kept figure, department and region, and every directory's stale_after, against a recount of the tests' own. */
  async function expectFiguresExact(): Promise<void> {
    expect(await driftedFigures(api.orm, await figureColumns(api.orm))).toEqual([]);
  }

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区卫健委', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区林业局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('follows publishing, mounting, refreshing, unmounting, withdrawing and update-cycle changes', async () => {
    for (let i = 0; i < 6; i++) await addDirectory(api, A, `A-${i}`, { publish: i < 5 });
    const m0 = await mount(api, 'A-0', 100);
    await mount(api, 'A-1', 7, new Date(Date.now() - 40 * 86400_000).toISOString());
    await mount(api, 'A-5', 9); // a draft: mounted data that does not count
    await api.ok(`mutation($id: ID!) { refreshMount(input: { mountId: $id, recordCount: 250 }) { id } }`, { id: m0 });
    const m2 = await mount(api, 'A-2', 3);
    await api.ok(`mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { id } }`, { id: m2 });
    await api.ok(`mutation { withdrawDirectory(input: { directory: { code: "A-3" } }) { id } }`);
    await api.ok(`mutation { updateDirectory(input: { directory: { code: "A-1" }, updateCycle: YEARLY }) { id } }`);
    const [row] = await figures();
    expect(row).toMatchObject({ published_directories: 4, mounted_directories: 2, data_volume: '257' });
    await expectFiguresExact();
  });

  it('follows supervision items, records, corrections and moves', async () => {
    await createMainItems(api, B, [{ code: 'M1' }, { code: 'M2' }]);
    await createSubItems(api, B, [
      { code: 'S1', mainItemCode: 'M1', category: 'INSPECTION' },
      { code: 'S2', mainItemCode: 'M1', category: 'PENALTY' },
      { code: 'S3', mainItemCode: 'M2', category: 'OTHER' },
    ]);
    await ingest(api, B, records('S1', 3));
    await ingest(api, B, [{ ...records('S1', 1, 'fix')[0], supersedes: { source: 'zhifa', externalId: 'S1-0' } }]);
    await api.ok(`mutation { moveSupervisionSubItem(input: { departmentCreditCode: "${B}", subItemCode: "S1", toMainItemCode: "M2" }) { code } }`);
    const row = (await figures())[1];
    expect(row).toMatchObject({
      main_items: 2,
      covered_main_items: 1,
      inspection_items: 1,
      inspection_covered: 1,
      inspection_records: '3',
      penalty_items: 1,
      penalty_covered: 0,
    });
    await expectFiguresExact();
  });

  it('recounts stale directories as time passes, without any write', async () => {
    const stale = async () =>
      await api.ok(`{ department(creditCode: "${A}") { mountStats { staleDirectories } } region(code: "410000") { mountStats { staleDirectories } } }`);
    const before = await stale();
    // Time passes: A-0's data reaches the end of its update cycle.
    await api.orm.em.fork().getConnection().execute(`update resource_directory set stale_after = now() - interval '1 minute' where code = 'A-0'`);
    expect(await stale()).toEqual(before);
    expect(await departmentFiguresService.refreshStaleness(api.orm.em.fork())).toBe(1);
    const after = await stale();
    expect(after.department.mountStats.staleDirectories).toBe(before.department.mountStats.staleDirectories + 1);
    expect(after.region.mountStats.staleDirectories).toBe(before.region.mountStats.staleDirectories + 1);
    expect(await departmentFiguresService.refreshStaleness(api.orm.em.fork())).toBe(0);
  });

  it('stays exact under concurrent changes to one department', async () => {
    for (let i = 10; i < 16; i++) await addDirectory(api, A, `A-${i}`);
    await createSubItems(
      api,
      B,
      Array.from({ length: 6 }, (_, i) => ({ code: `C${i}`, mainItemCode: 'M1', category: 'COERCION' })),
    );
    await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => mount(api, `A-${10 + i}`, 10 + i)),
      ...Array.from({ length: 6 }, (_, i) => ingest(api, B, records(`C${i}`, 2 + i))),
    ]);
    const [a, b] = await figures();
    expect(a).toMatchObject({ published_directories: 10, mounted_directories: 8 });
    expect(b).toMatchObject({ coercion_items: 6, coercion_covered: 6, coercion_records: String(2 + 3 + 4 + 5 + 6 + 7) });
    await expectFiguresExact();
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCommand } from '../../src/cli/export';
import { importCommand } from '../../src/cli/import';
import { snapshotCommand } from '../../src/cli/snapshot';
import { UsageError } from '../../src/cli/cli-support';
import { SYSTEM_VIEWER } from '../../src/core/viewer';
import type { RequestContext } from '../../src/core/request-context';
import { createDepartment, createRegions } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The commands' logic, run in-process against a test database as the
 * compiled commands run it (as the system); `npm run <command>` only adds the
 * database connection and the exit code.
 */
describe('commands: snapshot, export, import', () => {
  let api: TestServer;
  const dir = mkdtempSync(join(tmpdir(), 'mulu-cli-'));
  const ctx = (): RequestContext => ({ em: api.orm.em.fork(), viewer: SYSTEM_VIEWER });

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: '11410505000000007J', name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(() => api.close());

  it('imports a template filled in, writes a report, and refuses a bad file with every error', async () => {
    const template = join(dir, 'items.csv');
    expect((await importCommand(ctx(), ['--kind', 'supervision-items', '--template', template])).lines).toEqual([`Wrote ${template}.`]);
    const dry = await importCommand(ctx(), ['--kind', 'supervision-items', '--file', template, '--dry-run']);
    expect(dry).toEqual({ failed: false, lines: [expect.stringMatching(/^Dry run: 1 rows; created 2, updated 0, unchanged 0; 0 error\(s\)/)] });
    const report = join(dir, 'report.json');
    expect((await importCommand(ctx(), ['--kind', 'supervision-items', '--file', template, '--report', report])).lines[0]).toMatch(
      /^Imported: 1 rows; created 2/,
    );
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ applied: true, created: 2 });
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, readFileSync(template, 'utf8').replace('行政检查', '许可'));
    const refused = await importCommand(ctx(), ['--kind', 'supervision-items', '--file', bad]);
    expect(refused.failed).toBe(true);
    expect(refused.lines[0]).toMatch(/^row 2, 子项类别 \(category\): "许可" is not a sub-item category/);
    await expect(importCommand(ctx(), ['--kind', 'supervision-items'])).rejects.toThrow(UsageError);
    await expect(importCommand(ctx(), ['--kind', 'supervision-items', '--file', join(dir, 'missing.csv')])).rejects.toThrow('Cannot read');
  });

  it('captures a month once (again only with --replace) and exports its appendix table', async () => {
    expect(await snapshotCommand(ctx(), ['--period', '2023-06'])).toBe('Captured 2023-06: 1 departments, 3 regions.');
    await expect(snapshotCommand(ctx(), ['--period', '2023-06'])).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await snapshotCommand(ctx(), ['--period=2023-06', '--replace'])).toBe('Captured 2023-06: 1 departments, 3 regions (replacement 1).');
    await expect(snapshotCommand(ctx(), ['--period'])).rejects.toThrow(UsageError);
    await expect(snapshotCommand(ctx(), ['--month', '2023-06'])).rejects.toThrow('Unknown option --month');
    // The department holds the main item and sub-item the first test imported.
    const out = join(dir, 'supervision.csv');
    expect(await exportCommand(ctx(), ['--region', '410505', '--period', '2023-06', '--table', 'supervision', '--format', 'csv', '--out', out])).toMatch(
      /^Wrote .*supervision\.csv/,
    );
    expect(readFileSync(out, 'utf8').split('\r\n')[1]).toBe('殷都区民政局,1,0,0.00%,1,0,0,0,0,0,0,0,0,0,0,0,0.00%');
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';
import type { TestServer } from './test-server';

/** Reads one of the Yindu report's public tables (test/fixtures/yindu-2023-06, see docs/domain.md) as objects keyed by header. */
export function readReportTable(name: string): Record<string, string>[] {
  const path = join(__dirname, '..', 'fixtures', 'yindu-2023-06', name);
  const [header, ...lines] = readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/);
  const columns = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [columns[i], value])));
}

/** A valid credit code, distinct per (region, n). */
export function creditCode(regionCode: string, n: number): string {
  const first17 = `11${regionCode}${String(n).padStart(9, '0')}`;
  return first17 + creditCodeCheckCharacter(first17);
}

/** The province, city and district most tests place their departments in (河南省 > 安阳市 > 殷都区). */
export const HENAN_ANYANG_YINDU = [
  { code: '410000', name: '河南省' },
  { code: '410500', name: '安阳市' },
  { code: '410505', name: '殷都区' },
];

/** The same with a second district of Anyang, 文峰区, beside 殷都区. */
export const HENAN_ANYANG_TWO_DISTRICTS = [...HENAN_ANYANG_YINDU, { code: '410502', name: '文峰区' }];

export async function createRegions(api: TestServer, regions: { code: string; name: string }[]): Promise<void> {
  for (const region of regions) {
    await api.ok(`mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`, { input: region });
  }
}

export async function createDepartment(api: TestServer, input: { creditCode: string; name: string; regionCode: string }): Promise<void> {
  await api.ok(`mutation($input: CreateDepartmentInput!) { createDepartment(input: $input) { id } }`, { input });
}

/** Registers a directory (one information item) and returns its code; publishes it when asked. */
export async function addDirectory(
  api: TestServer,
  departmentCreditCode: string,
  code: string,
  options: { publish?: boolean; updateCycle?: string; shareType?: 'UNCONDITIONAL' | 'CONDITIONAL' | 'NOT_SHARED' } = {},
): Promise<string> {
  await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
    input: {
      code,
      name: `资源 ${code}`,
      departmentCreditCode,
      resourceFormat: 'DATABASE',
      shareType: options.shareType ?? 'UNCONDITIONAL',
      shareConditions: options.shareType && options.shareType !== 'UNCONDITIONAL' ? '仅用于政务服务办理' : null,
      updateCycle: options.updateCycle ?? 'MONTHLY',
      informationItems: [{ name: '名称', dataType: '字符型' }],
    },
  });
  if (options.publish !== false) {
    await api.ok(`mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
  }
  return code;
}

/** Mounts a dataset and returns the mount's ID. */
export async function mount(api: TestServer, directoryCode: string, recordCount: number, refreshedAt?: string): Promise<string> {
  const data = await api.ok<{ mountDataset: { id: string } }>(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
    input: { directory: { code: directoryCode }, kind: 'TABLE', locator: `ods.${directoryCode}`, recordCount, refreshedAt },
  });
  return data.mountDataset.id;
}

/** Information items of a welfare dataset, one of each data type a hosted row is checked against. */
export const WELFARE_ITEMS = [
  { name: '姓名', dataType: '字符型', required: true },
  { name: '年龄', dataType: '整数型' },
  { name: '补助金额', dataType: '数值型' },
  { name: '发放日期', dataType: '日期型' },
  { name: '在册', dataType: 'varchar', valueType: 'BOOLEAN' },
];

/**
 * A published directory of `items` whose dataset Mulu holds (a hosted TABLE
 * mount) loaded with `rows`, each an object keyed by item name; returns the
 * mount's ID.
 */
export async function hostedDataset(
  api: TestServer,
  departmentCreditCode: string,
  code: string,
  items: { name: string; dataType: string; required?: boolean; valueType?: string }[],
  rows: Record<string, unknown>[],
  options: { shareType?: 'UNCONDITIONAL' | 'CONDITIONAL'; shareConditions?: string } = {},
): Promise<string> {
  await api.ok(`mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`, {
    input: {
      code,
      name: '低保对象',
      departmentCreditCode,
      resourceFormat: 'DATABASE',
      shareType: options.shareType ?? 'UNCONDITIONAL',
      ...(options.shareConditions ? { shareConditions: options.shareConditions } : {}),
      updateCycle: 'MONTHLY',
      informationItems: items,
    },
  });
  await api.ok(`mutation($code: String!) { publishDirectory(input: { directory: { code: $code } }) { status } }`, { code });
  const mounted = await api.ok<{ mountDataset: { id: string } }>(`mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
    input: { directory: { code }, kind: 'TABLE', locator: `mulu:${code}`, hosted: true },
  });
  await api.ok(`mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { version } }`, { input: { mountId: mounted.mountDataset.id, rows } });
  return mounted.mountDataset.id;
}

/** Unmounts a dataset: the mount stays as inactive history. */
export async function unmount(api: TestServer, mountId: string): Promise<void> {
  await api.ok(`mutation($id: ID!) { unmountDataset(input: { mountId: $id }) { id } }`, { id: mountId });
}

/** Splits a total into `parts` whole numbers that add up to it. */
export function split(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/** The error codes of a response, in order (empty when it succeeded). */
export function errorCodes(response: { errors?: { extensions?: { code?: string } }[] }): string[] {
  return (response.errors ?? []).map((error) => error.extensions?.code ?? 'NO_CODE');
}

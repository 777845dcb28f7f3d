import type { TestServer } from './test-server';

export interface RecordInput {
  subItemCode: string;
  source: string;
  externalId: string;
  occurredAt: string;
  payload?: Record<string, unknown> | null;
  supersedes?: { source: string; externalId: string } | null;
}

export interface IngestResult {
  received: number;
  accepted: number;
  duplicates: number;
  duplicateIndexes: number[];
  rejected: { index: number; reason: string }[];
  stored: boolean;
}

/**
 * Runs one mutation per input in a single request, as aliased fields (GraphQL
 * runs mutation fields one after another), to build large fixtures quickly.
 */
export async function runMutations(api: TestServer, field: string, inputType: string, inputs: Record<string, unknown>[], chunk = 100): Promise<void> {
  for (let start = 0; start < inputs.length; start += chunk) {
    const part = inputs.slice(start, start + chunk);
    const vars = part.map((_, i) => `$i${i}: ${inputType}!`).join(', ');
    const fields = part.map((_, i) => `m${i}: ${field}(input: $i${i}) { __typename }`).join('\n');
    await api.ok(`mutation(${vars}) { ${fields} }`, Object.fromEntries(part.map((input, i) => [`i${i}`, input])));
  }
}

export async function createMainItems(api: TestServer, departmentCreditCode: string, items: { code: string; name?: string }[]): Promise<void> {
  await runMutations(
    api,
    'createSupervisionMainItem',
    'CreateSupervisionMainItemInput',
    items.map((item) => ({ departmentCreditCode, code: item.code, name: item.name ?? `主项 ${item.code}`, legalBasis: '《中华人民共和国行政处罚法》' })),
  );
}

export async function createSubItems(
  api: TestServer,
  departmentCreditCode: string,
  items: { code: string; mainItemCode: string; category: string }[],
): Promise<void> {
  await runMutations(
    api,
    'createSupervisionSubItem',
    'CreateSupervisionSubItemInput',
    items.map((item) => ({ departmentCreditCode, ...item, name: `子项 ${item.code}` })),
  );
}

export const INGEST = `mutation($input: IngestSupervisionRecordsInput!) {
  ingestSupervisionRecords(input: $input) { received accepted duplicates duplicateIndexes rejected { index reason } stored }
}`;

export async function ingest(api: TestServer, departmentCreditCode: string, records: RecordInput[], acceptPartial?: boolean): Promise<IngestResult> {
  const data = await api.ok<{ ingestSupervisionRecords: IngestResult }>(INGEST, { input: { departmentCreditCode, records, acceptPartial } });
  return data.ingestSupervisionRecords;
}

/** `n` records for a sub-item with distinct external ids. */
export function records(subItemCode: string, n: number, prefix = subItemCode, source = 'zhifa'): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({ subItemCode, source, externalId: `${prefix}-${i}`, occurredAt: '2023-06-15T08:00:00Z' }));
}

export const SUPERVISION_STATS_FIELDS = `mainItems coveredMainItems mainCoverageRate mainCoverageRatePercent
  subItems coveredSubItems subCoverageRate subCoverageRatePercent records
  byCategory { category subItems coveredSubItems records coverageRate coverageRatePercent }`;

import { recordsIngested } from '../../observability/metrics';
import { isDeepStrictEqual } from 'node:util';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { EARLIEST_DATE, identifierCode } from '../../core/text';
import { mutate } from '../../core/unit-of-work';
import { requireDepartmentWriter } from '../../core/permissions';
import { departmentService, requireValidCreditCode } from '../departments/department.service';
import { liftStatementTimeout } from '../../db/statement-timeout';

/** Most records one call may carry. */
export const MAX_RECORDS_PER_BATCH = 10_000;
/** Clock skew tolerated between an upstream system and this server. */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
/** Largest payload, as JSON text; records are evidence, not document storage. */
const MAX_PAYLOAD_CHARS = 16_384;

/** Names a stored record: the source system and the id it gave the record. */
export interface RecordKey {
  source: string;
  externalId: string;
}

export interface IncomingRecord extends RecordKey {
  subItemCode: string;
  occurredAt: Date;
  payload?: Record<string, unknown> | null;
  /** The record this one corrects; that record stops counting. */
  supersedes?: RecordKey | null;
}

export interface IngestRecordsInput {
  departmentCreditCode: string;
  records: IncomingRecord[];
  /** Store the good records even when some are rejected. */
  acceptPartial?: boolean | null;
}

export interface RejectedRecord {
  index: number;
  reason: string;
}

export interface IngestRecordsResult {
  received: number;
  accepted: number;
  duplicates: number;
  duplicateIndexes: number[];
  rejected: RejectedRecord[];
  /**
   * False only when the batch was refused as a whole: some records were
   * rejected and acceptPartial was false. True otherwise, also when nothing
   * was new to store (every record a duplicate, or every record rejected
   * under acceptPartial).
   */
  stored: boolean;
}

/** One record on its way in, after the checks that need no database. */
interface Candidate {
  index: number;
  key: string;
  source: string;
  externalId: string;
  subItemCode: string;
  occurredAt: string;
  payload: Record<string, unknown> | null;
  supersedes: (RecordKey & { key: string }) | null;
  subItemId?: number;
  supersedesId?: number;
}

interface TargetRow {
  id: string | number;
  sub_item_id: number;
  sub_item_code: string;
  superseded: boolean;
  source: string;
  external_id: string;
}

const keyOf = (source: string, externalId: string) => `${source}\u0000${externalId}`;
const show = (key: RecordKey) => `${key.source}/${key.externalId}`;

/** The checks of one record that need no database; the reason, or the candidate. */
function precheck(record: IncomingRecord, index: number, now: number): Candidate | string {
  const source = record.source.trim();
  const externalId = record.externalId.trim();
  // As the sub-item was registered (GraphQL or import): `jc-001` names the sub-item JC-001.
  const subItemCode = identifierCode(record.subItemCode);
  // PostgreSQL text and jsonb cannot hold NUL; refuse it here rather than fail the batch.
  if (
    [record.source, record.externalId, record.subItemCode, record.supersedes?.source ?? '', record.supersedes?.externalId ?? ''].some((text) =>
      text.includes('\u0000'),
    )
  ) {
    return 'it contains a NUL character (\\u0000), which cannot be stored.';
  }
  if (!source || source.length > 100) return `the source must be 1 to 100 characters, got ${source.length}.`;
  if (!externalId || externalId.length > 200) return `the external id must be 1 to 200 characters, got ${externalId.length}.`;
  if (!subItemCode) return 'the sub-item code is empty.';
  const time = record.occurredAt instanceof Date ? record.occurredAt.getTime() : Number.NaN;
  if (Number.isNaN(time)) return 'the time it happened (occurredAt) is not a valid date.';
  // The range every other date of the API keeps (checkDate), checked here since records skip the input hygiene's walk
  // (one bad record must not refuse its batch): 0001-01-01 was stored and counted, and 0000-01-01, a placeholder some
  // systems send for "unknown", failed the whole call, even with acceptPartial, as PostgreSQL has no year 0.
  if (time < EARLIEST_DATE.getTime())
    return `it happened before ${EARLIEST_DATE.getUTCFullYear()} (${record.occurredAt.toISOString()}); dates run from ${EARLIEST_DATE.getUTCFullYear()}.`;
  if (time > now + FUTURE_TOLERANCE_MS) return `it happened in the future (${record.occurredAt.toISOString()}); check the sending system's clock.`;
  const payload = record.payload ?? null;
  if (payload !== null) {
    const json = JSON.stringify(payload);
    const size = json.length;
    if (json.includes('\\u0000')) return 'its payload contains a NUL character (\\u0000), which cannot be stored.';
    if (size > MAX_PAYLOAD_CHARS) return `its payload is ${size} characters of JSON; at most ${MAX_PAYLOAD_CHARS} are allowed.`;
  }
  let supersedes: Candidate['supersedes'] = null;
  if (record.supersedes) {
    const target = { source: record.supersedes.source.trim(), externalId: record.supersedes.externalId.trim() };
    if (!target.source || !target.externalId) return 'it supersedes a record without naming its source and external id.';
    if (target.source === source && target.externalId === externalId)
      return 'it names itself in supersedes; a correction must be a new record with its own external id.';
    supersedes = { ...target, key: keyOf(target.source, target.externalId) };
  }
  return { index, key: keyOf(source, externalId), source, externalId, subItemCode, occurredAt: new Date(time).toISOString(), payload, supersedes };
}

/** A batch on its way in: the records still pending, and those set aside so far, with why. */
interface Batch {
  received: number;
  pending: Candidate[];
  rejected: RejectedRecord[];
  duplicateIndexes: number[];
}

function reject(batch: Batch, candidate: Pick<Candidate, 'index' | 'source' | 'externalId'>, reason: string): void {
  batch.rejected.push({ index: candidate.index, reason: `Record ${candidate.index} (${candidate.source}/${candidate.externalId}): ${reason}` });
}

function checkBatchSize(records: IncomingRecord[]): void {
  if (records.length > MAX_RECORDS_PER_BATCH) {
    throw badInput(
      `One call takes at most ${MAX_RECORDS_PER_BATCH.toLocaleString('en')} records; this one has ${records.length.toLocaleString('en')}. Split it into several calls.`,
    );
  }
}

/** The batch after the checks that need no database. */
function precheckBatch(records: IncomingRecord[], now: number): Batch {
  const batch: Batch = { received: records.length, pending: [], rejected: [], duplicateIndexes: [] };
  records.forEach((record, index) => {
    const checked = precheck(record, index, now);
    if (typeof checked === 'string') reject(batch, { index, source: record.source, externalId: record.externalId }, checked);
    else batch.pending.push(checked);
  });
  return batch;
}

/** Keeps the records whose sub-item code names a sub-item of the department the call is for; rejects the others. */
async function keepKnownSubItems(em: EntityManager, department: { id: number; name: string }, batch: Batch): Promise<void> {
  const codes = [...new Set(batch.pending.map((c) => c.subItemCode))];
  const subItems = new Map<string, number>();
  if (codes.length) {
    const rows: { id: number; code: string }[] = await em.execute(
      `select id, code from supervision_sub_item where department_id = ? and code in (select jsonb_array_elements_text(?::jsonb))`,
      [department.id, JSON.stringify(codes)],
    );
    for (const row of rows) subItems.set(row.code, row.id);
  }
  batch.pending = batch.pending.filter((c) => {
    c.subItemId = subItems.get(c.subItemCode);
    if (c.subItemId === undefined) reject(batch, c, `department "${department.name}" has no supervision sub-item with code "${c.subItemCode}".`);
    return c.subItemId !== undefined;
  });
}

/**
 * Locks the stored records that the batch's corrections name, by key.
 * Locked before duplicates are looked for: a concurrent call correcting the
 * same record then commits first, and its correction is seen as a duplicate,
 * not as a second one. `named` is false when the batch corrects nothing.
 */
async function lockCorrectedRecords(em: EntityManager, departmentId: number, pending: Candidate[]): Promise<{ named: boolean; rows: Map<string, TargetRow> }> {
  const keys = new Map<string, RecordKey>();
  for (const c of pending) if (c.supersedes) keys.set(c.supersedes.key, c.supersedes);
  const rows = new Map<string, TargetRow>();
  if (keys.size) {
    const found: TargetRow[] = await em.execute(
      `select r.id, r.sub_item_id, s.code as sub_item_code, r.superseded, r.source, r.external_id
         from jsonb_to_recordset(?::jsonb) k(source text, "externalId" text)
         join supervision_record r on r.department_id = ? and r.source = k.source and r.external_id = k."externalId"
         join supervision_sub_item s on s.id = r.sub_item_id
        order by r.id
          for update of r`,
      [JSON.stringify([...keys.values()].map(({ source, externalId }) => ({ source, externalId }))), departmentId],
    );
    for (const row of found) rows.set(keyOf(row.source, row.external_id), row);
  }
  return { named: keys.size > 0, rows };
}

/** A stored record met again under its key, and which of its values the record sent differs in (none: a retry). */
interface StoredMatch {
  differs: string[];
}

/**
 * The pending records whose key is stored already, by candidate index, with
 * the values they differ in from the stored record. One statement whatever
 * the batch size; PostgreSQL compares the payloads as jsonb (key order and
 * spacing do not make two payloads differ).
 */
async function storedMatches(em: EntityManager, departmentId: number, candidates: Candidate[]): Promise<Map<number, StoredMatch>> {
  const matches = new Map<number, StoredMatch>();
  if (!candidates.length) return matches;
  const rows: {
    i: number;
    sub_item: boolean;
    occurred_at: boolean;
    payload: boolean;
    supersedes: boolean;
    stored_sub_item: string;
    stored_occurred_at: Date;
  }[] = await em.execute(
    `select k.i,
              r.sub_item_id <> k.sub_item_id as sub_item,
              r.occurred_at <> k.occurred_at as occurred_at,
              r.payload is distinct from k.payload as payload,
              (t.source, t.external_id) is distinct from (k.sup_source, k.sup_external_id) as supersedes,
              s.code as stored_sub_item, r.occurred_at as stored_occurred_at
         from jsonb_to_recordset(?::jsonb)
           as k(i int, source text, external_id text, sub_item_id int, occurred_at timestamptz, payload jsonb, sup_source text, sup_external_id text)
         join supervision_record r on r.department_id = ? and r.source = k.source and r.external_id = k.external_id
         join supervision_sub_item s on s.id = r.sub_item_id
         left join supervision_record t on t.id = r.supersedes_id`,
    [
      JSON.stringify(
        candidates.map((c) => ({
          i: c.index,
          source: c.source,
          external_id: c.externalId,
          sub_item_id: c.subItemId,
          occurred_at: c.occurredAt,
          payload: c.payload,
          sup_source: c.supersedes?.source ?? null,
          sup_external_id: c.supersedes?.externalId ?? null,
        })),
      ),
      departmentId,
    ],
  );
  for (const row of rows) {
    const differs: string[] = [];
    if (row.sub_item) differs.push(`sub-item (stored: "${row.stored_sub_item}")`);
    if (row.occurred_at) differs.push(`occurredAt (stored: ${new Date(row.stored_occurred_at).toISOString()})`);
    if (row.payload) differs.push('payload');
    if (row.supersedes) differs.push('supersedes');
    matches.set(row.i, { differs });
  }
  return matches;
}

/** The values two records of one batch under the same key differ in (none: the same record sent twice). */
function differencesInBatch(first: Candidate, again: Candidate): string[] {
  const differs: string[] = [];
  if (first.subItemId !== again.subItemId) differs.push(`sub-item (record ${first.index}: "${first.subItemCode}")`);
  if (first.occurredAt !== again.occurredAt) differs.push(`occurredAt (record ${first.index}: ${first.occurredAt})`);
  if (!isDeepStrictEqual(first.payload, again.payload)) differs.push('payload');
  if ((first.supersedes?.key ?? null) !== (again.supersedes?.key ?? null)) differs.push('supersedes');
  return differs;
}

/** Why a record sent again under a stored key with other values is refused: records are evidence, never rewritten. */
const conflictReason = (where: string, differs: string[]) =>
  `${where} has the same source and external id but another ${differs.join(', ')}; a stored record is never rewritten: send the corrected values as a new record (its own external id) that supersedes it.`;

/**
 * Sets aside the records stored before and the repeats within the batch:
 * the same values again are duplicates (a retry, a no-op); other values
 * under a stored key are rejected as a conflict, so the sender learns that
 * what it holds is not what was counted.
 */
function dropDuplicates(batch: Batch, stored: Map<number, StoredMatch>): void {
  const seen = new Map<string, Candidate>();
  batch.pending = batch.pending.filter((c) => {
    const first = seen.get(c.key);
    if (!first) seen.set(c.key, c);
    const match = stored.get(c.index);
    const differs = match ? match.differs : first ? differencesInBatch(first, c) : null;
    if (differs === null) return true;
    if (differs.length) reject(batch, c, conflictReason(match ? 'a stored record' : `record ${first!.index} of this batch`, differs));
    else batch.duplicateIndexes.push(c.index);
    return false;
  });
}

/** Why a correction cannot be applied, or null when it can. */
function correctionProblem(
  c: Candidate,
  supersedes: RecordKey & { key: string },
  target: TargetRow | undefined,
  inBatch: Set<string>,
  claimedBy: number | undefined,
): string | null {
  const what = `it supersedes ${show(supersedes)}`;
  if (!target) {
    return inBatch.has(supersedes.key)
      ? `${what}, which is in this same batch; send the correction in a later call, once the record it corrects is stored.`
      : `${what}, but no record with that source and external id has been received.`;
  }
  if (target.sub_item_id !== c.subItemId)
    return `${what}, a record of sub-item "${target.sub_item_code}"; a correction must be for the same sub-item ("${c.subItemCode}").`;
  if (target.superseded) return `${what}, which has already been superseded; correct the latest record instead.`;
  if (claimedBy !== undefined) return `${what}, which record ${claimedBy} of this batch already supersedes.`;
  return null;
}

/** Corrections: the record corrected must be stored, of the same sub-item, not corrected already, and corrected once in this batch. */
function checkCorrections(batch: Batch, targets: Map<string, TargetRow>): void {
  const claimed = new Map<string, number>();
  const inBatch = new Set(batch.pending.map((c) => c.key));
  batch.pending = batch.pending.filter((c) => {
    if (!c.supersedes) return true;
    const target = targets.get(c.supersedes.key);
    const problem = correctionProblem(c, c.supersedes, target, inBatch, claimed.get(c.supersedes.key));
    if (problem) {
      reject(batch, c, problem);
      return false;
    }
    claimed.set(c.supersedes.key, c.index);
    c.supersedesId = Number(target!.id);
    return true;
  });
}

/**
 * Inserts the pending records, flags the records they correct, and moves the
 * sub-items' record counters by what actually changed. Returns how many
 * records were stored and how many corrections applied.
 */
async function storeRecords(em: EntityManager, departmentId: number, batch: Batch, acceptPartial: boolean): Promise<{ accepted: number; corrections: number }> {
  const inserted = await insertRecords(em, departmentId, batch.pending);
  // Rows a concurrent call stored between our check and our insert: the insert waited for it to commit, so a statement
  // of our own sees them now. Only in that race does this cost a statement.
  if (inserted.skipped.length) {
    const skipped = inserted.skipped.map((i) => batch.pending[i]);
    const matches = await storedMatches(em, departmentId, skipped);
    for (const c of skipped) {
      const differs = matches.get(c.index)?.differs ?? [];
      if (differs.length) reject(batch, c, conflictReason('a record stored by a call running at the same time', differs));
      else batch.duplicateIndexes.push(c.index);
    }
    // What this call inserted is undone with the rest of the batch.
    if (batch.rejected.length && !acceptPartial) throw new BatchRefused(resultOf(batch, 0, false));
  }
  const deltas = new Map<number, number>();
  const bump = (subItemId: number, by: number) => deltas.set(subItemId, (deltas.get(subItemId) ?? 0) + by);
  for (const [subItemId, count] of inserted.perSubItem) bump(subItemId, count);
  if (inserted.supersededIds.length) {
    const flagged: { id: string | number; sub_item_id: number }[] = await em.execute(
      `update supervision_record set superseded = true where id in (?) and not superseded returning id, sub_item_id`,
      [inserted.supersededIds],
    );
    // The targets are locked above, so this cannot happen short of a bug; never let counters drift.
    if (flagged.length !== inserted.supersededIds.length) throw new Error(`superseding flagged ${flagged.length} of ${inserted.supersededIds.length} records`);
    for (const row of flagged) bump(row.sub_item_id, -1);
  }
  await applyCounterDeltas(em, deltas);
  return { accepted: inserted.count, corrections: inserted.supersededIds.length };
}

/** Thrown out of the transaction to undo what a batch refused whole had already inserted; carries the answer. */
class BatchRefused extends Error {
  constructor(readonly result: IngestRecordsResult) {
    super('supervision record batch refused');
  }
}

/** The ingestion's answer, also when the batch was refused after its insert. */
async function refusedOr(ingestion: Promise<IngestRecordsResult>): Promise<IngestRecordsResult> {
  try {
    return await ingestion;
  } catch (error) {
    if (error instanceof BatchRefused) return error.result;
    throw error;
  }
}

/** The answer to the caller, indexes in batch order. */
function resultOf(batch: Batch, accepted: number, stored: boolean): IngestRecordsResult {
  batch.rejected.sort((a, b) => a.index - b.index);
  batch.duplicateIndexes.sort((a, b) => a - b);
  return {
    received: batch.received,
    accepted,
    duplicates: batch.duplicateIndexes.length,
    duplicateIndexes: batch.duplicateIndexes,
    rejected: batch.rejected,
    stored,
  };
}

/**
 * Ingestion of supervision records (监管行为数据汇聚).
 *
 * One call is one transaction of a fixed number of statements whatever the
 * batch size: the department, its sub-items by code, the records being
 * superseded (locked, only when the batch corrects some), those already
 * stored, one insert, one flag update, one counter update, and one more look
 * at stored records only when a concurrent call stored some of the batch
 * first. `supervision_sub_item.record_count` is kept
 * equal to the counting records of each sub-item in that same transaction,
 * so statistics read sub-items only, never records.
 *
 * Retries are safe: (department, source, externalId) is unique; a record already stored,
 * or stored by a concurrent call of the same batch, is reported as a
 * duplicate and counted once (`on conflict do nothing`, counters follow only
 * the rows this call actually inserted). Records are evidence, never
 * rewritten: one sent again under a stored key with other values (sub-item,
 * occurredAt, payload, supersedes) is not a retry but a conflict, rejected
 * with the values it differs in, and the stored record keeps counting.
 */
export const supervisionRecordService = {
  async ingest(ctx: RequestContext, input: IngestRecordsInput): Promise<IngestRecordsResult> {
    checkBatchSize(input.records);
    const creditCode = requireValidCreditCode(input.departmentCreditCode);
    const acceptPartial = input.acceptPartial ?? false;
    const now = Date.now();

    const result = await refusedOr(
      mutate(ctx, 'ingestSupervisionRecords', async (em, mutation) => {
        // Built afresh by each attempt: the steps below set records aside as they read the database, and an attempt
        // PostgreSQL undid (mutate runs it again) must not leave its decisions (a duplicate, a refused correction) to the next.
        const batch = precheckBatch(input.records, now);
        // A batch of 10,000 records is a job, not a request.
        await liftStatementTimeout(em);
        const department = await departmentService.requireByCreditCode(em, creditCode);
        requireDepartmentWriter(ctx, department, 'push supervision records for this department');
        await keepKnownSubItems(em, department, batch);
        const targets = await lockCorrectedRecords(em, department.id, batch.pending);
        // The insert would skip stored records by itself, but only a look at
        // their values tells a retry (a duplicate) from a record sent again with
        // other values (a conflict, rejected), and a correction re-sent after it
        // was applied from a second correction.
        dropDuplicates(batch, await storedMatches(em, department.id, batch.pending));
        checkCorrections(batch, targets.rows);
        if ((batch.rejected.length && !acceptPartial) || !batch.pending.length) {
          // Under acceptPartial nothing is refused for the batch's sake: the call stored all it could, which may be nothing.
          return resultOf(batch, 0, acceptPartial || batch.rejected.length === 0);
        }

        const { accepted, corrections } = await storeRecords(em, department.id, batch, acceptPartial);
        // Plain SQL: the unit of work sees none of these rows, so the mutation names them for the figures.
        mutation.wroteRows('supervision_record', [department.id]);
        // One entry per call: the records themselves are the evidence, kept unchanged.
        mutation.audit({
          entityType: 'Department',
          entityId: department.id,
          after: { received: batch.received, accepted, duplicates: batch.duplicateIndexes.length, rejected: batch.rejected.length, corrections },
        });
        await em.flush();
        return resultOf(batch, accepted, true);
      }),
    );
    // Counted once committed (mulu_records_ingested_total): a rolled-back batch stored nothing.
    recordsIngested.inc(result.accepted);
    return result;
  },
};

/** What one insert did: rows added per sub-item, corrections applied, candidates skipped. */
interface InsertOutcome {
  count: number;
  perSubItem: Map<number, number>;
  supersededIds: number[];
  /** Positions (in the candidate list) of records a concurrent call stored first. */
  skipped: number[];
}

/**
 * One insert for the whole batch. Rows go in (source, external_id) order so
 * two calls with overlapping records wait on each other instead of
 * deadlocking; `on conflict do nothing` leaves out records stored meanwhile.
 * The statement answers with what the counters need (rows added per
 * sub-item, the corrected ids, the candidates skipped) rather than one row
 * per record: a batch of 10,000 sends back a few hundred rows.
 */
async function insertRecords(em: EntityManager, departmentId: number, candidates: Candidate[]): Promise<InsertOutcome> {
  const rows = candidates.map((c, i) => ({
    i,
    sub_item_id: c.subItemId,
    source: c.source,
    external_id: c.externalId,
    occurred_at: c.occurredAt,
    ...(c.payload === null ? {} : { payload: c.payload }),
    ...(c.supersedesId === undefined ? {} : { supersedes_id: c.supersedesId }),
  }));
  const result: { kind: 'added' | 'corrected' | 'skipped'; sub_item_id: number | null; n: string | number | null }[] = await em.execute(
    `with k as (
       select * from jsonb_to_recordset(?::jsonb)
         as k(i int, sub_item_id int, source text, external_id text, occurred_at timestamptz, payload jsonb, supersedes_id bigint)
     ), ins as (
       insert into supervision_record (department_id, sub_item_id, source, external_id, occurred_at, payload, supersedes_id)
       select ?::int, k.sub_item_id, k.source, k.external_id, k.occurred_at, k.payload, k.supersedes_id
         from k order by k.source collate "C", k.external_id collate "C"
       on conflict (department_id, source, external_id) do nothing
       returning source, external_id, sub_item_id, supersedes_id
     )
     select 'added' as kind, sub_item_id, count(*) as n from ins group by sub_item_id
     union all
     select 'corrected', null, supersedes_id from ins where supersedes_id is not null
     union all
     select 'skipped', null, k.i from k where not exists (select 1 from ins where ins.source = k.source and ins.external_id = k.external_id)`,
    [JSON.stringify(rows), departmentId],
  );
  const outcome: InsertOutcome = { count: 0, perSubItem: new Map(), supersededIds: [], skipped: [] };
  for (const row of result) {
    const n = Number(row.n);
    if (row.kind === 'added') {
      outcome.perSubItem.set(row.sub_item_id!, n);
      outcome.count += n;
    } else if (row.kind === 'corrected') outcome.supersededIds.push(n);
    else outcome.skipped.push(n);
  }
  return outcome;
}

/**
 * Adds each delta to its sub-item's counter. The rows are locked in id order
 * first, so concurrent calls touching the same sub-items queue up in one
 * order and cannot deadlock.
 */
async function applyCounterDeltas(em: EntityManager, deltas: Map<number, number>): Promise<void> {
  const changes = [...deltas].filter(([, delta]) => delta !== 0).sort(([a], [b]) => a - b);
  if (!changes.length) return;
  const ids = changes.map(([id]) => id);
  await em.execute(`select id from supervision_sub_item where id in (?) order by id for no key update`, [ids]);
  await em.execute(
    `update supervision_sub_item s set record_count = s.record_count + d.delta
       from jsonb_to_recordset(?::jsonb) d(id int, delta int)
      where s.id = d.id`,
    [JSON.stringify(changes.map(([id, delta]) => ({ id, delta })))],
  );
}

import type { EntityManager } from '@mikro-orm/postgresql';
import { MuluError } from '../../core/errors';
import type { Viewer } from '../../core/viewer';
import type { ImportColumn, ImportKind } from './import-columns';

/** What an import does to one entity. */
export type ImportAction = 'CREATE' | 'UPDATE' | 'UNCHANGED';

/** A bad cell or row: nothing of the file is written while there is one. */
export interface ImportError {
  /** Row number in the file, the header being row 1. */
  row: number;
  /** The column, as "label (key)"; null when the whole row is meant. */
  column: string | null;
  reason: string;
}

/** What a row does (a supervision row names a main item and a sub-item: one result each). */
export interface ImportRowResult {
  row: number;
  entity: 'ResourceDirectory' | 'SupervisionMainItem' | 'SupervisionSubItem';
  departmentCreditCode: string;
  code: string;
  action: ImportAction;
  /** The fields an update changes. */
  changed?: string[];
}

export interface ImportReport {
  kind: ImportKind;
  dryRun: boolean;
  /** Whether the file was written: false for a dry run and whenever a row has an error. */
  applied: boolean;
  /** Data rows read. */
  rows: number;
  /** Entities created, updated and left unchanged (a directory of five rows counts once). */
  created: number;
  updated: number;
  unchanged: number;
  results: ImportRowResult[];
  errors: ImportError[];
  /** Milliseconds spent, reading to commit. */
  elapsedMs?: number;
}

/** Collects row errors with the column named as the file names it. */
export class RowErrors {
  readonly list: ImportError[] = [];
  constructor(private readonly columns: ImportColumn[]) {}

  add(row: number, columnKey: string | null, reason: string): void {
    const column = columnKey ? this.columns.find((c) => c.key === columnKey) : undefined;
    this.list.push({ row, column: column ? `${column.label} (${column.key})` : columnKey, reason });
  }

  /** Runs a check that throws a MuluError (the services' own rules) and records its message instead. */
  check<T>(row: number, columnKey: string | null, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (!(error instanceof MuluError)) throw error;
      this.add(row, columnKey, error.message);
      return undefined;
    }
  }
}

export function summarize(kind: ImportKind, dryRun: boolean, rows: number, results: ImportRowResult[], errors: ImportError[]): ImportReport {
  const count = (action: ImportAction) =>
    new Set(results.filter((r) => r.action === action).map((r) => `${r.entity} ${r.departmentCreditCode} ${r.code}`)).size;
  errors.sort((a, b) => a.row - b.row);
  results.sort((a, b) => a.row - b.row);
  return { kind, dryRun, applied: false, rows, created: count('CREATE'), updated: count('UPDATE'), unchanged: count('UNCHANGED'), results, errors };
}

/** Fields of `after` that differ from `before`, as the audit trail keeps them. */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys(after).filter((key) => JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null));
}

export interface AuditRow {
  entityType: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
}

/**
 * Writes audit entries in one statement per 10,000, in the import's
 * transaction: the same rows `audit()` writes for each change (changed
 * fields only on update, all on creation).
 */
export async function insertAuditEntries(em: EntityManager, viewer: Viewer, action: string, rows: AuditRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 10_000) {
    const part = rows.slice(start, start + 10_000).map((r) => {
      if (!r.before) return { entity_type: r.entityType, entity_id: r.entityId, before: null, after: r.after };
      const changed = changedFields(r.before, r.after);
      return {
        entity_type: r.entityType,
        entity_id: r.entityId,
        before: Object.fromEntries(changed.map((k) => [k, r.before![k] ?? null])),
        after: Object.fromEntries(changed.map((k) => [k, r.after[k]])),
      };
    });
    await em.execute(
      `insert into audit_entry (actor_kind, actor_id, actor_name, actor_role, action, entity_type, entity_id, before, after)
       select ?::actor_kind, ?, ?, ?, ?, x.entity_type, x.entity_id, x.before, x.after
         from jsonb_to_recordset(?::jsonb) as x(entity_type text, entity_id text, before jsonb, after jsonb)`,
      [viewer.kind, viewer.id, viewer.name, viewer.role, action, JSON.stringify(part)],
    );
  }
}

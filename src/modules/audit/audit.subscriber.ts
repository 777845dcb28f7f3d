import { wrap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditDeclaration, EntityChange, Mutation, MutationSubscriber } from '../../core/unit-of-work';
import { AuditEntry } from './audit.entity';
import { writeAuditEntry } from './audit';

/** JSON-safe copy of a value the unit of work wrote (dates as ISO strings). */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && !Array.isArray(value)) return JSON.parse(JSON.stringify(value));
  return value ?? null;
}

const plainAll = (data: Record<string, unknown>) => Object.fromEntries(Object.entries(data).map(([key, value]) => [key, plain(value)]));

/** The entry of one entity change, for a mutation that declared none. */
function derived(change: EntityChange): AuditDeclaration {
  const key = wrap(change.entity, true).getPrimaryKey();
  return {
    entityType: change.entityName,
    entityId: typeof key === 'object' ? JSON.stringify(key) : String(key),
    before: change.before ? plainAll(change.before) : null,
    after: change.type === 'delete' ? {} : plainAll(change.after),
  };
}

/**
 * Every mutation leaves an audit entry, in its own transaction: the entries
 * it declared (mutation.audit), or else one per entity its flushes changed.
 * A mutation that changed nothing (moving a sub-item to where it is) writes
 * none.
 */
export class AuditSubscriber implements MutationSubscriber {
  async beforeMutationCommit(em: EntityManager, mutation: Mutation): Promise<void> {
    const entries = mutation.audits.length ? mutation.audits : mutation.changes.filter((change) => change.entityName !== AuditEntry.name).map(derived);
    for (const entry of entries) writeAuditEntry(em, mutation.viewer, mutation.action, entry);
  }
}

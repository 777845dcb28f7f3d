import { Reference, Utils, wrap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditDeclaration, Snapshot } from '../../core/unit-of-work';
import type { Viewer } from '../../core/viewer';
import { AuditEntry } from './audit.entity';

export type { Snapshot };

/** JSON-safe value of a field: references become their primary key, dates ISO strings. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Reference.isReference(value)) return plain(wrap(value.unwrap(), true).getPrimaryKey());
  if (Array.isArray(value)) return value.map((item: unknown) => (item && typeof item === 'object' ? { ...item } : item));
  if (Utils.isEntity<object>(value)) return plain(wrap(value, true).getPrimaryKey());
  return value ?? null;
}

/** The named fields of an entity, as the audit trail stores them. */
export function snapshot<T extends object>(entity: T, fields: readonly (keyof T & string)[]): Snapshot {
  return Object.fromEntries(fields.map((field) => [field, plain(entity[field])]));
}

/**
 * Writes one entry in the caller's transaction; only fields whose value
 * changed are kept (all of them on creation).
 */
export function writeAuditEntry(em: EntityManager, viewer: Viewer, action: string, input: AuditDeclaration): AuditEntry {
  let before: Snapshot | null = null;
  let after: Snapshot = input.after;
  if (input.before) {
    const changed = Object.keys(input.after).filter((key) => JSON.stringify(input.before![key]) !== JSON.stringify(input.after[key]));
    before = Object.fromEntries(changed.map((key) => [key, input.before![key] ?? null]));
    after = Object.fromEntries(changed.map((key) => [key, input.after[key]]));
  }
  return em.create(AuditEntry, {
    actorKind: viewer.kind,
    actorId: viewer.id,
    actorName: viewer.name,
    actorRole: viewer.role,
    action: input.action ?? action,
    entityType: input.entityType,
    entityId: String(input.entityId),
    before,
    after,
    at: new Date(),
  });
}

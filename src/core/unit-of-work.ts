import type { ChangeSet, EntityManager as CoreEntityManager, EventSubscriber, FlushEventArgs, IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isCollision } from './errors';
import { requireViewer } from './permissions';
import type { RequestContext } from './request-context';
import type { Viewer } from './viewer';

/** Fields of an entity as the audit trail stores them (JSON-safe). */
export type Snapshot = Record<string, unknown>;

/** One audit entry a mutation declares; `action` defaults to the mutation's. */
export interface AuditDeclaration {
  action?: string;
  entityType: string;
  entityId: string | number;
  /** Fields before; null or absent when the mutation created the entity. */
  before?: Snapshot | null;
  /** Fields after. */
  after: Snapshot;
}

/** One row the mutation's flushes inserted, updated or deleted, as MikroORM's unit of work saw it. */
export interface EntityChange {
  /** Entity class name, e.g. ResourceDirectory. */
  entityName: string;
  type: 'create' | 'update' | 'delete';
  entity: object;
  /** Database values of the changed properties before the flush (updates only). */
  before: Record<string, unknown> | null;
  /** The values the flush wrote. */
  after: Record<string, unknown>;
}

/**
 * What one mutation did, collected while it runs and handed to every
 * MutationSubscriber just before its transaction commits: the entity changes
 * of its flushes (collected by ChangeCollector), the audit entries it
 * declared, and the rows it wrote by SQL that the ORM cannot see.
 */
export class Mutation {
  readonly audits: AuditDeclaration[] = [];
  readonly changes: EntityChange[] = [];
  /** Table name -> ids of the departments whose rows of that table were written by plain SQL. */
  readonly sqlWrites = new Map<string, Set<number>>();

  constructor(
    /** The mutation's name, e.g. publishDirectory; the audit entries' default action. */
    readonly action: string,
    readonly viewer: Viewer,
  ) {}

  /**
   * Declares the audit entry of this mutation. Optional: a mutation that
   * declares none gets one per entity it changed (see audit.subscriber.ts).
   */
  audit(entry: AuditDeclaration): void {
    this.audits.push(entry);
  }

  /**
   * Records rows written by plain SQL (em.execute), which the unit of work
   * does not see, so that what is derived from changes (figures) follows them.
   */
  wroteRows(table: string, departmentIds: Iterable<number>): void {
    const ids = this.sqlWrites.get(table) ?? new Set<number>();
    for (const id of departmentIds) ids.add(id);
    this.sqlWrites.set(table, ids);
  }
}

/**
 * A MikroORM event subscriber that also runs once per mutation, inside its
 * transaction, after its last flush and before the commit. Register it in
 * `subscribers` of the ORM config (src/mikro-orm.config.ts); they run in that
 * order. Whatever a subscriber writes (figures, audit entries, an outbox row)
 * commits or rolls back with the mutation.
 */
export interface MutationSubscriber extends EventSubscriber {
  beforeMutationCommit(em: EntityManager, mutation: Mutation): Promise<void>;
}

const running = new WeakMap<CoreEntityManager, Mutation>();

function isMutationSubscriber(subscriber: EventSubscriber): subscriber is MutationSubscriber {
  return typeof (subscriber as Partial<MutationSubscriber>).beforeMutationCommit === 'function';
}

function plainData(data: object | undefined | null): Record<string, unknown> {
  return data ? { ...(data as Record<string, unknown>) } : {};
}

/**
 * Collects what every flush inside a mutation changed. Registered first in
 * the ORM config, so the other subscribers see a complete list.
 */
export class ChangeCollector implements EventSubscriber {
  async afterFlush({ em, uow }: FlushEventArgs): Promise<void> {
    const mutation = running.get(em);
    if (!mutation) return;
    for (const changeSet of uow.getChangeSets() as ChangeSet<object>[]) {
      const type = changeSet.type === 'create' ? 'create' : changeSet.type === 'delete' ? 'delete' : 'update';
      const before =
        type === 'update'
          ? Object.fromEntries(
              Object.keys(changeSet.payload ?? {}).map((key) => [key, (changeSet.originalEntity as Record<string, unknown> | undefined)?.[key] ?? null]),
            )
          : null;
      mutation.changes.push({ entityName: changeSet.name, type, entity: changeSet.entity, before, after: plainData(changeSet.payload) });
    }
  }
}

export interface MutateOptions {
  isolationLevel?: IsolationLevel;
  /**
   * `work` reads something that cannot be read again (a request body as it
   * streams in): a collision is answered at once instead of running it again.
   */
  once?: boolean;
}

/** Times a mutation is run in all while PostgreSQL undoes it for colliding with another (isCollision). */
export const MUTATION_ATTEMPTS = 3;

/** Told each time a mutation collided and is run again (logs and metrics: src/observability/metrics.ts). */
let onRetry: (action: string, attempt: number, error: unknown) => void = () => undefined;
export function observeMutationRetries(observer: typeof onRetry): void {
  onRetry = observer;
}

/**
 * The one way a service writes: opens the transaction, refuses anonymous
 * callers, runs `work`, flushes, then lets every MutationSubscriber derive
 * what follows from the changes (department figures, audit entries, ...) in
 * the same transaction. `work` checks the finer permissions itself (which
 * department the viewer may write), since only it knows the department.
 *
 * A transaction PostgreSQL undid for colliding with another (a deadlock, a
 * serialization failure) wrote nothing, so it is run again, up to
 * MUTATION_ATTEMPTS times in all (not with `once`): what the caller would
 * otherwise have to do on an error that said nothing about its request.
 */
export async function mutate<T>(
  ctx: RequestContext,
  action: string,
  work: (em: EntityManager, mutation: Mutation) => Promise<T>,
  options: MutateOptions = {},
): Promise<T> {
  const viewer = requireViewer(ctx);
  const { once, ...transactionOptions } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.em.transactional(async (em) => {
        const mutation = new Mutation(action, viewer);
        running.set(em, mutation);
        try {
          const result = await work(em, mutation);
          await em.flush();
          running.delete(em);
          for (const subscriber of em.getEventManager().getSubscribers()) {
            if (isMutationSubscriber(subscriber)) await subscriber.beforeMutationCommit(em, mutation);
          }
          await em.flush();
          return result;
        } finally {
          running.delete(em);
        }
      }, transactionOptions);
    } catch (error) {
      if (once || attempt >= MUTATION_ATTEMPTS || !isCollision(error)) throw error;
      onRetry(action, attempt, error);
      // The undone attempt's flushes updated, in memory, the entities the request had already loaded (a transaction's
      // fork shares them): the next attempt would see no change to write. It reads them afresh instead.
      ctx.em.clear();
    }
  }
}

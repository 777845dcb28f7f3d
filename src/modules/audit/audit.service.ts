import { badInput } from '../../core/errors';
import { toPage, type Page, type PageRequest } from '../../db/page';
import { pagedRows } from '../../db/paged-children';
import type { RequestContext } from '../../core/request-context';
import { requireAdmin } from '../../core/permissions';
import { AuditEntry } from './audit.entity';

export interface AuditFilter {
  entityType?: string | null;
  entityId?: string | null;
  actorId?: string | null;
  /** Inclusive lower bound of `at`. */
  from?: Date | null;
  /** Exclusive upper bound of `at`. */
  to?: Date | null;
}

export const auditService = {
  /** A page of the audit trail in the order it was written, filtered; administrators only; one statement. */
  async search(ctx: RequestContext, filter: AuditFilter, page: PageRequest): Promise<Page<AuditEntry>> {
    requireAdmin(ctx, 'read the audit trail');
    const parts: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      parts.push(sql);
      params.push(value);
    };
    if (filter.entityType) add('c.entity_type = ?', filter.entityType.trim());
    if (filter.entityId) add('c.entity_id = ?', filter.entityId.trim());
    if (filter.actorId) add('c.actor_id = ?', filter.actorId.trim());
    if (filter.from) add('c.at >= ?', filter.from);
    if (filter.to) add('c.at < ?', filter.to);
    if (filter.from && filter.to && filter.from.getTime() > filter.to.getTime()) throw badInput('"from" must not be after "to".');
    const rows = await pagedRows(ctx.em, AuditEntry, 'audit_entry', page, { sql: parts.length ? parts.join(' and ') : 'true', params });
    return toPage(rows, page.first);
  },
};

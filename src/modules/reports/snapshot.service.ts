import { IsolationLevel } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { conflict, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { mutate, type AuditDeclaration } from '../../core/unit-of-work';
import { writeAuditEntry } from '../audit/audit';
import { requireAdmin } from '../../core/permissions';
import { departmentFiguresService } from '../stats/department-figures.service';
import { requireBegunPeriod } from './period';
import { ReportSnapshot, ReportUnitKind } from './report-snapshot.entity';
import { unitFiguresService, type UnitWithFigures } from './unit-figures.service';
import { liftStatementTimeout } from '../../db/statement-timeout';

export interface CaptureSnapshotInput {
  period: string;
  /** Capture again over an existing snapshot of the period (audited); otherwise a second capture is refused. */
  replace?: boolean | null;
}

const AUDITED = ['period', 'capturedAt', 'capturedBy', 'departmentCount', 'regionCount', 'replacements'] as const;
const auditFields = (s: ReportSnapshot) => Object.fromEntries(AUDITED.map((f) => [f, s[f] instanceof Date ? (s[f] as Date).toISOString() : s[f]]));

/** Rows per insert statement (7 parameters each, far below PostgreSQL's limit). */
const INSERT_BATCH = 2000;

/**
 * Monthly snapshots (月度快照): every department's and region's figures as
 * they stand when captured, kept unchanged so that a later report compares
 * against what was true then.
 */
export const snapshotService = {
  /**
   * Captures every department and region, for a month that has begun (the
   * current one or earlier, China Standard Time). A period is captured once;
   * with `replace` the old capture is deleted and a new one written in the
   * same transaction, and the audit trail keeps both.
   */
  async capture(ctx: RequestContext, input: CaptureSnapshotInput): Promise<ReportSnapshot> {
    requireAdmin(ctx, 'capture report snapshots');
    const period = requireBegunPeriod(input.period);
    // The counts the clock changes (stale data, lapsed subscriptions) are recounted by a running
    // server every few minutes; a capture (from cron, perhaps after the server was down) recounts
    // them first, so the month holds the figures as they stand.
    await departmentFiguresService.refreshStaleness(ctx.em.fork());
    // Repeatable read: every statement of the capture sees the same moment, so the figures add up.
    return mutate(
      ctx,
      'captureSnapshot',
      async (em, mutation) => {
        // A capture reads every department of the province and may wait for another capture.
        await liftStatementTimeout(em);
        // Captures queue here, one at a time. The lock must come before any
        // query: a repeatable-read transaction fixes its snapshot at its first
        // query, and a capture that had fixed it before waiting would not see
        // the capture it waited for (a second first capture would then hit the
        // primary key, a second replacement a serialization failure). LOCK
        // TABLE is not a query and takes no snapshot (an advisory lock is taken
        // by a select, which does). The mode conflicts with itself and with
        // writes, not with the reads of reports.
        await em.execute(`lock table report_snapshot in share row exclusive mode`);
        const existing = await em.findOne(ReportSnapshot, { period });
        if (existing && !input.replace) {
          throw conflict(
            `The snapshot of ${period} was captured at ${existing.capturedAt.toISOString()} by ${existing.capturedBy}; snapshots are immutable. Capture it again with replace (captureSnapshot(input: { replace: true }), or --replace on the command line) to replace it.`,
          );
        }
        return writeCapture(em, ctx, period, existing, (entry) => mutation.audit(entry));
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ },
    );
  },

  /**
   * Captures a period inside the caller's transaction, as it stands there,
   * without the queueing lock or the staleness recount: for the demo loader,
   * which fills a new database in one transaction and is its only writer.
   */
  async captureWithin(ctx: RequestContext, period: string): Promise<ReportSnapshot> {
    requireAdmin(ctx, 'capture report snapshots');
    return writeCapture(ctx.em, ctx, requireBegunPeriod(period), await ctx.em.findOne(ReportSnapshot, { period }), (entry) => {
      writeAuditEntry(ctx.em, ctx.viewer!, entry.action ?? 'captureSnapshot', entry);
    });
  },

  /** The snapshot of a month (YYYY-MM), or null when it was not captured. */
  async find(em: EntityManager, period: string): Promise<ReportSnapshot | null> {
    return em.findOne(ReportSnapshot, { period });
  },

  /** The snapshot of a month, or NOT_FOUND saying how to capture it. */
  async require(em: EntityManager, period: string): Promise<ReportSnapshot> {
    const snapshot = await this.find(em, period);
    if (!snapshot)
      throw notFound(`There is no snapshot of ${period}. An administrator captures one with captureSnapshot or "npm run snapshot -- --period ${period}".`);
    return snapshot;
  },

  /** Every captured period, newest first. */
  async list(ctx: RequestContext): Promise<ReportSnapshot[]> {
    return ctx.em.find(ReportSnapshot, {}, { orderBy: { period: 'desc' } });
  },

  /** Units' figures in every captured month, oldest first, keyed "KIND:key"; one statement. */
  async monthsOf(
    em: EntityManager,
    units: readonly { kind: ReportUnitKind; key: string }[],
  ): Promise<Map<string, { period: string; figures: UnitWithFigures['figures'] }[]>> {
    const out = new Map<string, { period: string; figures: UnitWithFigures['figures'] }[]>();
    if (units.length === 0) return out;
    const rows: { unit_kind: string; unit_key: string; period: string; figures: UnitWithFigures['figures'] | string }[] = await em.execute(
      `select u.unit_kind, u.unit_key, u.period, u.figures from report_snapshot_unit u where u.unit_key in (?) order by u.period`,
      [[...new Set(units.map((u) => u.key))]],
    );
    const wanted = new Set(units.map((u) => `${u.kind}:${u.key}`));
    for (const row of rows) {
      const id = `${row.unit_kind}:${row.unit_key}`;
      if (!wanted.has(id)) continue;
      const figures = typeof row.figures === 'string' ? JSON.parse(row.figures) : row.figures;
      out.set(id, [...(out.get(id) ?? []), { period: row.period, figures }]);
    }
    return out;
  },

  /**
   * For each region: itself, its child regions and (unless left out) every
   * department in it and below it, as captured. One statement. Regions first, then
   * departments, each by code: the same order on every read, whatever order
   * the rows were stored or the plan visits them in.
   */
  async unitsOfRegionTrees(
    em: EntityManager,
    period: string,
    regionCodes: readonly string[],
    { departments = true }: { departments?: boolean } = {},
  ): Promise<Map<string, UnitWithFigures[]>> {
    const codes = [...regionCodes];
    // Without departments: the regions alone (a report reads its departments' pages apart, report-departments.service.ts).
    const departmentRows = `select rc.ancestor_code as tree, u.unit_kind, u.unit_key, u.unit_name, u.region_code, u.figures
         from report_snapshot_unit u join region_closure rc on rc.descendant_code = u.region_code
        where u.period = ? and u.unit_kind = 'DEPARTMENT' and rc.ancestor_code in (?)
       union all`;
    // The enum report_unit_kind is ('DEPARTMENT', 'REGION'): descending puts the regions first.
    const rows: {
      tree: string;
      unit_kind: ReportUnitKind;
      unit_key: string;
      unit_name: string;
      region_code: string | null;
      figures: UnitWithFigures['figures'] | string;
    }[] = await em.execute(
      `${departments ? departmentRows : ''}
       select t.code as tree, u.unit_kind, u.unit_key, u.unit_name, u.region_code, u.figures
         from report_snapshot_unit u join (select unnest(array[?]::text[]) as code) t on u.unit_key = t.code or u.region_code = t.code
        where u.period = ? and u.unit_kind = 'REGION'
       order by tree, unit_kind desc, unit_key`,
      [...(departments ? [period, codes] : []), codes, period],
    );
    const out = new Map<string, UnitWithFigures[]>(codes.map((code) => [code, []]));
    const parsed = new Map<string, UnitWithFigures['figures']>();
    for (const row of rows) {
      const id = `${row.unit_kind}:${row.unit_key}`;
      let figures = parsed.get(id);
      if (!figures) parsed.set(id, (figures = typeof row.figures === 'string' ? JSON.parse(row.figures) : row.figures));
      out.get(row.tree)?.push({ kind: row.unit_kind, key: row.unit_key, name: row.unit_name, regionCode: row.region_code, figures: figures! });
    }
    return out;
  },
};

/** Writes the snapshot of `period` (replacing `existing`, if any) from the figures `em` sees; `audit` records its entry (the mutation's, or directly for the demo loader). */
async function writeCapture(
  em: EntityManager,
  ctx: RequestContext,
  period: string,
  existing: ReportSnapshot | null,
  audit: (entry: AuditDeclaration) => void,
): Promise<ReportSnapshot> {
  const before = existing ? auditFields(existing) : null;
  const units = await unitFiguresService.everything(em);
  if (existing) {
    await em.execute(`delete from report_snapshot where period = ?`, [period]);
    em.getUnitOfWork().unsetIdentity(existing);
  }
  const viewer = ctx.viewer!;
  const snapshot = em.create(ReportSnapshot, {
    period,
    capturedAt: new Date(),
    capturedBy: viewer.name,
    departmentCount: units.filter((u) => u.kind === ReportUnitKind.DEPARTMENT).length,
    regionCount: units.filter((u) => u.kind === ReportUnitKind.REGION).length,
    replacements: existing ? existing.replacements + 1 : 0,
  });
  await em.flush();
  await insertUnits(em, period, units);
  audit({ action: existing ? 'replaceSnapshot' : 'captureSnapshot', entityType: 'ReportSnapshot', entityId: period, before, after: auditFields(snapshot) });
  await em.flush();
  return snapshot;
}

async function insertUnits(em: EntityManager, period: string, units: UnitWithFigures[]): Promise<void> {
  for (let start = 0; start < units.length; start += INSERT_BATCH) {
    const part = units.slice(start, start + INSERT_BATCH);
    const rows = part.map((u) => ({ kind: u.kind, key: u.key, name: u.name, region: u.regionCode, figures: u.figures }));
    await em.execute(
      `insert into report_snapshot_unit (period, unit_kind, unit_key, unit_name, region_code, figures)
       select ?, x.kind::report_unit_kind, x.key, x.name, x.region, x.figures
         from jsonb_to_recordset(?::jsonb) as x(kind text, key text, name text, region text, figures jsonb)`,
      [period, JSON.stringify(rows)],
    );
  }
}

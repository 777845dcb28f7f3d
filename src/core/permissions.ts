import { forbidden, unauthenticated } from './errors';
import type { RequestContext } from './request-context';
import { Role, type Viewer } from './viewer';

/**
 * The rules of who may write what, for services to call: services own the
 * rules, so they hold wherever a service is called from (API, demo loader).
 */
export function requireViewer(ctx: RequestContext): Viewer {
  if (!ctx.viewer) throw unauthenticated('Sign in first: send "Authorization: Bearer <token>" with a token of the unified identity platform or an API key.');
  return ctx.viewer;
}

/** Regions, departments and API keys are managed by platform administrators only. */
export function requireAdmin(ctx: RequestContext, what: string): Viewer {
  const viewer = requireViewer(ctx);
  if (viewer.role !== Role.ADMIN) throw forbidden(`Only platform administrators may ${what}.`);
  return viewer;
}

/** Whether the viewer may write data of this department: admins for every department, stewards for their own. */
export function canWriteDepartment(viewer: Viewer, departmentCreditCode: string): boolean {
  return viewer.role === Role.ADMIN || (viewer.role === Role.STEWARD && viewer.departmentCreditCode === departmentCreditCode);
}

/**
 * A steward writes only their own department's directories, mounts,
 * supervision items and records, and acts only for it in subscriptions.
 */
export function requireDepartmentWriter(ctx: RequestContext, department: { creditCode: string; name: string }, what: string): Viewer {
  const viewer = requireViewer(ctx);
  if (canWriteDepartment(viewer, department.creditCode)) return viewer;
  if (viewer.role === Role.VIEWER) throw forbidden(`Your role is read-only; you cannot ${what}.`);
  throw forbidden(`Only a steward of ${department.name} (${department.creditCode}) or an administrator may ${what}.`);
}

/**
 * Subscription requests (what a department asked for and why, who asked, the
 * provider's reasons) concern the two departments: their stewards and
 * administrators read them, as only they follow their events
 * (subscriptionEvents). Everyone signed in reads the counts
 * (subscriptionStats).
 */
export function canReadRequestsOf(viewer: Viewer | null, departmentCreditCode: string): boolean {
  return viewer !== null && canWriteDepartment(viewer, departmentCreditCode);
}

/** Refuses, saying what may be read instead, a viewer who may not read this department's subscription requests. */
export function requireRequestReader(ctx: RequestContext, department: { creditCode: string; name: string }): void {
  const viewer = requireViewer(ctx);
  if (canReadRequestsOf(viewer, department.creditCode)) return;
  throw forbidden(
    `Only a steward of ${department.name} (${department.creditCode}) or an administrator may read its subscription requests; its counts are in subscriptionStats.`,
  );
}

/**
 * A mount's locator says where a department keeps its data: internal table
 * names, the addresses of its APIs and file shares. The department's
 * stewards and administrators read it; everyone else reads the rest of the
 * mount (kind, count, freshness), which the figures are made of.
 */
export function canReadLocatorsOf(viewer: Viewer | null, departmentCreditCode: string): boolean {
  return viewer !== null && canWriteDepartment(viewer, departmentCreditCode);
}

/**
 * A draft directory (registered, not yet published) is its department's
 * unpublished work: the catalogue is what departments publish, and only
 * published directories count. Its department's stewards and
 * administrators read it, with its information items and mounts; for
 * anyone else it is not there, on every path (lists, searches, counts,
 * directory(code:), node(id:), a mount's directory, a subscription request).
 */
export function canReadDraftsOf(viewer: Viewer | null | undefined, departmentCreditCode: string): boolean {
  return !!viewer && canWriteDepartment(viewer, departmentCreditCode);
}

/**
 * Whose drafts the viewer reads, as canReadDraftsOf says, for statements
 * that filter many directories at once: 'ALL' (administrators), one
 * department's, by its credit code (its stewards), or null (none).
 */
export function draftsReadBy(viewer: Viewer | null | undefined): DraftsRead {
  if (viewer?.role === Role.ADMIN) return 'ALL';
  return viewer?.role === Role.STEWARD && viewer.departmentCreditCode ? { department: viewer.departmentCreditCode } : null;
}

/** Whose draft directories a caller reads: every department's, one department's (a credit code) or none. */
export type DraftsRead = 'ALL' | { department: string } | null;

import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildren } from '../../db/paged-children';
import type { PageRequest } from '../../db/page';
import { badInput, conflict, forbidden, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { canReadRequestsOf, canWriteDepartment, requireDepartmentWriter, requireViewer } from '../../core/permissions';
import { DirectoryStatus, ResourceDirectory, ShareType } from '../catalogue/directory.entity';
import { directoryService, hiddenDraft, noSuchDirectory, type DirectoryRef } from '../catalogue/directory.service';
import { Department } from '../departments/department.entity';
import { departmentService } from '../departments/department.service';
import { SubscriptionRequest, SubscriptionStatus } from './subscription.entity';
import { businessToday, effectiveStatus, LIVE_STATUSES, nextStatus, statusSql, TRANSITIONS, type SubscriptionEvent } from './subscription.state-machine';

export interface RequestSubscriptionInput {
  directory: DirectoryRef;
  /** The requesting department; a steward's own department when absent. */
  requesterCreditCode?: string | null;
  purpose: string;
  /** Last day of use (YYYY-MM-DD), inclusive. */
  endDate?: string | null;
}

export interface DecisionInput {
  id: number;
  reason?: string | null;
  /** On approval: the information items granted (conditional sharing); all when absent. */
  grantedItems?: string[] | null;
}

/** The items an approval grants: names of the directory's items, at least one; null for all. */
function checkGrantedItems(directory: ResourceDirectory, names: string[] | null | undefined): string[] | null {
  if (names == null) return null;
  // Trimmed as the items' own names were when the directory was registered (trimText).
  const asked = names.map(trimText);
  const known = directory.informationItems.map((item) => item.name);
  const unknown = asked.filter((name) => !known.includes(name));
  if (unknown.length)
    throw badInput(`Directory ${directory.code} has no information item ${unknown.map((n) => `"${n}"`).join(', ')}; its items are ${known.join(', ')}.`);
  const granted = known.filter((name) => asked.includes(name));
  if (granted.length === 0) throw badInput('Grant at least one information item, or omit grantedItems to grant them all.');
  return granted;
}

/** Filter of request lists: by effective status (LAPSED included). */
export interface SubscriptionFilter {
  status: SubscriptionStatus | null;
}

const AUDITED = ['status', 'decisionReason', 'decidedAt', 'endedAt', 'grantedItems'] as const;
const AUDITED_ON_CREATE = ['directory', 'provider', 'requester', 'purpose', 'endDate', ...AUDITED] as const;

function checkEndDate(endDate: string | null | undefined): string | null {
  if (endDate == null || endDate === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(endDate) || Number.isNaN(Date.parse(`${endDate}T00:00:00Z`))) throw badInput(`"${endDate}" is not a date (YYYY-MM-DD).`);
  if (endDate < businessToday()) throw badInput(`The end date ${endDate} has already passed.`);
  return endDate;
}

/** The answer for an id without a request, and for a request the caller may not read (canReadRequestsOf). */
const NO_SUCH_REQUEST = 'This subscription request does not exist.';

/**
 * A request locked for the rest of the transaction: of two concurrent
 * decisions on one request, the second waits, then sees the first's state
 * and fails with CONFLICT.
 */
async function requireForUpdate(em: EntityManager, id: number): Promise<SubscriptionRequest> {
  const request = await em.findOne(SubscriptionRequest, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!request) throw notFound(NO_SUCH_REQUEST);
  await em.find(Department, { id: { $in: [request.provider.id, request.requester.id] } });
  return request;
}

export const subscriptionService = {
  /**
   * Files a request of the requester department for a published directory of
   * another department. The share type decides: unconditional is granted at
   * once, conditional waits for the provider, not shared is refused.
   */
  async request(ctx: RequestContext, input: RequestSubscriptionInput): Promise<SubscriptionRequest> {
    const viewer = requireViewer(ctx);
    const purpose = trimText(input.purpose);
    if (!purpose) throw badInput('A subscription request needs its purpose (用途).');
    const endDate = checkEndDate(input.endDate);
    const requesterCode = input.requesterCreditCode?.trim() || viewer.departmentCreditCode;
    if (!requesterCode) throw badInput('Name the requesting department (requesterCreditCode); an administrator acts for no department of their own.');
    return mutate(ctx, 'requestSubscription', async (em, mutation) => {
      const requester = await departmentService.requireByCreditCode(em, requesterCode);
      requireDepartmentWriter(ctx, requester, `request subscriptions for ${requester.name}`);
      const directory = await directoryService.requireForUpdate(em, input.directory);
      const provider = await em.findOneOrFail(Department, { id: directory.department.id });
      // Another department's draft is not there for this caller: its refusal must not say it exists.
      if (hiddenDraft(ctx, directory, provider)) throw noSuchDirectory(input.directory);
      if (provider.id === requester.id)
        throw badInput(`Directory ${directory.code} belongs to ${provider.name} itself; a department does not subscribe to its own directories.`);
      if (directory.status !== DirectoryStatus.PUBLISHED)
        throw conflict(`Directory ${directory.code} is not published; only published directories can be subscribed to.`);
      if (directory.shareType === ShareType.NOT_SHARED) {
        throw badInput(
          `Directory ${directory.code} is not shared (不予共享)${directory.shareConditions ? `: ${directory.shareConditions}` : ''}; it cannot be requested.`,
          { reason: 'NOT_SHARED' },
        );
      }
      // The directory row is locked (requireForUpdate), so requests for it queue up here.
      const live = await em.find(SubscriptionRequest, { directory, requester, status: { $in: [...LIVE_STATUSES] } });
      for (const existing of live) {
        const status = effectiveStatus(existing);
        if (status !== SubscriptionStatus.LAPSED) {
          throw conflict(`${requester.name} already has a ${status.toLowerCase()} request for directory ${directory.code}; cancel it before asking again.`);
        }
        existing.status = SubscriptionStatus.LAPSED; // make the lapse durable, so the new request is the only live one
        mutation.audit({
          action: 'lapseSubscription',
          entityType: 'SubscriptionRequest',
          entityId: existing.id,
          before: { status: SubscriptionStatus.GRANTED },
          after: { status: SubscriptionStatus.LAPSED },
        });
      }
      // Before the insert: the flush would otherwise insert first and trip the one-live-request index.
      await em.flush();
      const now = new Date();
      const granted = directory.shareType === ShareType.UNCONDITIONAL;
      const request = em.create(SubscriptionRequest, {
        directory,
        provider,
        requester,
        purpose,
        endDate,
        status: granted ? SubscriptionStatus.GRANTED : SubscriptionStatus.PENDING,
        requestedBy: viewer.id,
        decidedAt: granted ? now : null,
      });
      await em.flush();
      mutation.audit({ entityType: 'SubscriptionRequest', entityId: request.id, after: snapshot(request, AUDITED_ON_CREATE) });
      return request;
    });
  },

  /** Pending -> granted, by the provider. */
  approve(ctx: RequestContext, input: DecisionInput): Promise<SubscriptionRequest> {
    return this.transition(ctx, input.id, 'approve', 'approveSubscriptionRequest', (request, now, directory) => {
      if (request.endDate && request.endDate < businessToday(now))
        throw conflict(`This request's end date ${request.endDate} has passed; it can only be rejected.`);
      // The directory may have changed since the request was filed.
      if (directory.status !== DirectoryStatus.PUBLISHED)
        throw conflict(`Directory ${directory.code} is no longer published; this request can only be rejected.`);
      if (directory.shareType === ShareType.NOT_SHARED) throw conflict(`Directory ${directory.code} is no longer shared; this request can only be rejected.`);
      request.decidedAt = now;
      request.decisionReason = (input.reason != null && trimText(input.reason)) || null;
      request.grantedItems = checkGrantedItems(directory, input.grantedItems);
    });
  },

  /** Pending -> rejected, by the provider, with a reason. */
  reject(ctx: RequestContext, input: DecisionInput): Promise<SubscriptionRequest> {
    const reason = input.reason != null ? trimText(input.reason) : '';
    if (!reason) throw badInput('A rejection needs a reason the requesting department can act on.');
    return this.transition(ctx, input.id, 'reject', 'rejectSubscriptionRequest', (request, now) => {
      request.decidedAt = now;
      request.decisionReason = reason;
    });
  },

  /** Granted -> revoked, by the provider. */
  revoke(ctx: RequestContext, input: DecisionInput): Promise<SubscriptionRequest> {
    return this.transition(ctx, input.id, 'revoke', 'revokeSubscription', (request, now) => {
      request.endedAt = now;
      request.decisionReason = (input.reason != null && trimText(input.reason)) || request.decisionReason || null;
    });
  },

  /** Pending or granted -> cancelled, by the requester. */
  cancel(ctx: RequestContext, id: number): Promise<SubscriptionRequest> {
    return this.transition(ctx, id, 'cancel', 'cancelSubscription', (request, now) => {
      request.endedAt = now;
    });
  },

  /**
   * One transition of the state machine, on the locked row, audited. The
   * request's directory is share-locked first: an approval re-checks that the
   * directory is still published and shared, and a withdrawal or change of
   * the directory (which locks it for update) must not commit between that
   * check and the grant. Directory, then request, then the department figures:
   * the order of requestSubscription and of the directory's own changes.
   */
  async transition(
    ctx: RequestContext,
    id: number,
    event: SubscriptionEvent,
    action: string,
    apply: (request: SubscriptionRequest, now: Date, directory: ResourceDirectory) => void,
  ): Promise<SubscriptionRequest> {
    const viewer = requireViewer(ctx);
    return mutate(ctx, action, async (em, mutation) => {
      // A request's directory never changes, so it can be named before the request is locked.
      await em.execute(`select c.id from resource_directory c where c.id = (select r.directory_id from subscription_request r where r.id = ?) for share of c`, [
        id,
      ]);
      const request = await requireForUpdate(em, id);
      // Anyone who may not read the request (neither department's steward, nor an administrator) is answered as for an id
      // without one, as node(id:) answers them: a refusal would say that the request exists and name its department, and
      // ids count up (trying them in turn counted every department's requests).
      if (![request.provider.getEntity(), request.requester.getEntity()].some((party) => canReadRequestsOf(viewer, party.creditCode))) {
        throw notFound(NO_SUCH_REQUEST);
      }
      const side = TRANSITIONS[event].by === 'provider' ? request.provider.getEntity() : request.requester.getEntity();
      if (!canWriteDepartment(viewer, side.creditCode)) {
        const who = TRANSITIONS[event].by === 'provider' ? 'the providing department' : 'the requesting department';
        throw forbidden(`Only a steward of ${who}, ${side.name} (${side.creditCode}), or an administrator may ${event} this request.`);
      }
      const now = new Date();
      const current = effectiveStatus(request, businessToday(now));
      const before = snapshot(request, AUDITED);
      const to = nextStatus(current, event);
      // Read after the lock above: a withdrawal that committed meanwhile is seen here.
      apply(request, now, await em.findOneOrFail(ResourceDirectory, { id: request.directory.id }));
      request.status = to;
      await em.flush();
      mutation.audit({ entityType: 'SubscriptionRequest', entityId: request.id, before, after: snapshot(request, AUDITED) });
      return request;
    });
  },

  /** Pages of requests made (side = requester) or received (side = provider) by many departments, one statement. */
  async requestsOf(
    em: EntityManager,
    side: 'requester' | 'provider',
    departmentIds: readonly number[],
    page: PageRequest,
    filter: SubscriptionFilter,
  ): Promise<SubscriptionRequest[]> {
    const where = filter.status ? { sql: statusSql(filter.status, 'c'), params: [] } : undefined;
    return pagedChildren(em, SubscriptionRequest, 'subscription_request', `${side}_id`, departmentIds, page, where);
  },

  /** Subscription requests by id, for loaders (one statement per batch). */
  async byIds(em: EntityManager, ids: readonly number[]): Promise<SubscriptionRequest[]> {
    return em.find(SubscriptionRequest, { id: { $in: [...ids] } });
  },
};

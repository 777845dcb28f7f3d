import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { PageRequest } from '../../db/page';
import { pagedChildren } from '../../db/paged-children';
import { conflict, badInput, forbidden, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { identifierCode } from '../../core/text';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { requireViewer } from '../../core/permissions';
import { Role, type Viewer } from '../../core/viewer';
import { Department } from '../departments/department.entity';
import { departmentService } from '../departments/department.service';
import { emitEvents, NotificationEventType, PLATFORM_EVENTS, SUBSCRIBABLE_EVENTS } from './notification-event';
import { checkReceiverAddress, checkWebhookUrl } from './url-guard';
import { NotificationEventRow, Webhook, WebhookDelivery } from './webhook.entity';
import { newWebhookSecret } from './webhook-signature';
import { notificationPolicy } from './notification-policy';

export interface NewWebhook {
  /** The department whose events it receives; a steward's own when absent; absent for an admin: every department. */
  departmentCreditCode?: string | null;
  url: string;
  events: NotificationEventType[];
  /** The signing secret; generated when absent. */
  secret?: string | null;
  description?: string | null;
}

export interface WebhookChanges {
  id: number;
  url?: string | null;
  events?: NotificationEventType[] | null;
  secret?: string | null;
  active?: boolean | null;
  description?: string | null;
}

const AUDITED = ['url', 'events', 'active', 'description', 'department'] as const;

function checkEvents(events: readonly NotificationEventType[], department: Department | null): string[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw badInput('List at least one event the webhook receives.');
  const unknown = unique.filter((e) => !SUBSCRIBABLE_EVENTS.includes(e));
  if (unknown.length) throw badInput(`${unknown.join(', ')} cannot be subscribed to; testWebhook sends WEBHOOK_TEST on request.`);
  const platform = unique.filter((e) => PLATFORM_EVENTS.includes(e));
  if (department && platform.length)
    throw badInput(
      `${platform.join(', ')} concern no department: only an administrator's webhook for every department (no departmentCreditCode) receives them.`,
    );
  return unique;
}

/** Fewest different characters a given secret holds: sixteen spaces, or one letter repeated, is guessed at once. */
const SECRET_MIN_DISTINCT = 8;

/**
 * A secret the caller chose, checked as far as a check can: long enough,
 * not guessable at a glance, and without whitespace, which receivers'
 * configuration readers often trim (every signature would then fail to
 * verify).
 */
function checkSecret(secret: string | null | undefined): string | null {
  if (secret == null) return null;
  const rule = `A webhook secret must be 16 to 200 characters, without spaces, of at least ${SECRET_MIN_DISTINCT} different characters; leave it out and Mulu generates one.`;
  if (secret.length < 16 || secret.length > 200 || /\s/u.test(secret) || new Set(secret).size < SECRET_MIN_DISTINCT) throw badInput(rule);
  return secret;
}

const NO_WEBHOOK = 'This webhook does not exist.';

/**
 * Admins manage every webhook; a steward only their own department's. Another
 * department's webhook is answered as a missing one: a refusal would tell the
 * caller it exists (ids count up, so trying them in turn would count every
 * department's webhooks).
 */
function requireManager(viewer: Viewer, webhook: Webhook): void {
  if (viewer.role === Role.ADMIN) return;
  const department = webhook.department?.getEntity();
  if (viewer.role === Role.STEWARD && department && department.creditCode === viewer.departmentCreditCode) return;
  throw notFound(NO_WEBHOOK);
}

async function checkUrl(text: string): Promise<string> {
  const url = checkWebhookUrl(text);
  await checkReceiverAddress(url, notificationPolicy.allowPrivate);
  return url.toString();
}

/**
 * Webhooks (docs/notifications.md): who may register which, and their
 * delivery history. Stewards register webhooks for their own department,
 * which then receive only that department's events; administrators for any
 * department, or for all of them.
 */
/** Webhooks Mulu holds at most (every department's and the province-wide ones together). */
export const MAX_WEBHOOKS = 1_000;

export const webhookService = {
  /** Registers a webhook; the secret is returned once, here. */
  async create(ctx: RequestContext, input: NewWebhook): Promise<{ webhook: Webhook; secret: string }> {
    const viewer = requireViewer(ctx);
    if (viewer.role === Role.VIEWER) throw forbidden('Your role is read-only; you cannot register webhooks.');
    const code = input.departmentCreditCode?.trim() || (viewer.role === Role.STEWARD ? viewer.departmentCreditCode : null);
    const url = await checkUrl(input.url);
    const given = checkSecret(input.secret);
    return mutate(ctx, 'createWebhook', async (em, mutation) => {
      const department = code ? await departmentService.requireByCreditCode(em, code) : null;
      if (viewer.role !== Role.ADMIN && department?.creditCode !== viewer.departmentCreditCode) {
        throw forbidden(
          `A steward registers webhooks for their own department only${department ? `, not ${department.name} (${department.creditCode})` : ''}.`,
        );
      }
      // Query.webhooks lists them all without paging: its cost bound (LIST_BOUNDS) is this cap. Serialised by a
      // transaction-scoped advisory lock so that concurrent registrations cannot pass it together.
      await em.execute(`select pg_advisory_xact_lock(hashtext('mulu:webhook-count'))`);
      const [{ n }] = await em.execute<{ n: string }[]>(`select count(*) as n from webhook`);
      if (Number(n) >= MAX_WEBHOOKS) {
        throw conflict(
          `Mulu holds at most ${MAX_WEBHOOKS.toLocaleString('en')} webhooks and has ${Number(n).toLocaleString('en')}; delete webhooks that are no longer used (deleteWebhook), or send several events to one receiver.`,
        );
      }
      const secret = given ?? newWebhookSecret();
      const webhook = em.create(Webhook, {
        department,
        url,
        events: checkEvents(input.events, department),
        secret,
        description: (input.description != null && trimText(input.description)) || null,
        createdBy: viewer.id,
      });
      await em.flush();
      mutation.audit({ entityType: 'Webhook', entityId: webhook.id, after: snapshot(webhook, AUDITED) });
      return { webhook, secret };
    });
  },

  /** Changes a webhook its caller manages (URL checked as at registration, events, secret, active, description), audited without the secret. */
  async update(ctx: RequestContext, input: WebhookChanges): Promise<Webhook> {
    const viewer = requireViewer(ctx);
    const url = input.url != null ? await checkUrl(input.url) : null;
    const secret = checkSecret(input.secret);
    return mutate(ctx, 'updateWebhook', async (em, mutation) => {
      const webhook = await this.requireManaged(em, viewer, input.id);
      const before = snapshot(webhook, AUDITED);
      if (url) webhook.url = url;
      if (input.events) webhook.events = checkEvents(input.events, webhook.department?.getEntity() ?? null);
      if (secret) webhook.secret = secret;
      if (input.active != null) webhook.active = input.active;
      if (input.description !== undefined) webhook.description = (input.description != null && trimText(input.description)) || null;
      await em.flush();
      mutation.audit({
        entityType: 'Webhook',
        entityId: webhook.id,
        before,
        after: { ...snapshot(webhook, AUDITED), ...(secret ? { secretChanged: true } : {}) },
      });
      return webhook;
    });
  },

  /** Deletes a webhook and its delivery history; deliveries not sent yet are dropped. */
  async delete(ctx: RequestContext, id: number): Promise<Webhook> {
    const viewer = requireViewer(ctx);
    return mutate(ctx, 'deleteWebhook', async (em, mutation) => {
      const webhook = await this.requireManaged(em, viewer, id);
      const before = snapshot(webhook, AUDITED);
      em.remove(webhook);
      await em.flush();
      mutation.audit({ entityType: 'Webhook', entityId: id, before, after: {} });
      return webhook;
    });
  },

  /** Queues a WEBHOOK_TEST event to this webhook only; its delivery shows in `deliveries`. */
  async test(ctx: RequestContext, id: number): Promise<WebhookDelivery> {
    const viewer = requireViewer(ctx);
    return mutate(ctx, 'testWebhook', async (em, mutation) => {
      const webhook = await this.requireManaged(em, viewer, id);
      const [event] = await emitEvents(em, [
        { type: NotificationEventType.WEBHOOK_TEST, departments: [], webhookId: webhook.id, data: { webhook: { url: webhook.url }, requestedBy: viewer.name } },
      ]);
      mutation.audit({ entityType: 'Webhook', entityId: webhook.id, after: { testEventId: event.id } });
      return em.findOneOrFail(WebhookDelivery, { event: event.id, webhook: webhook.id });
    });
  },

  /** Webhooks the viewer manages: an admin's all (or one department's), a steward's own department's. */
  async list(ctx: RequestContext, departmentCreditCode: string | null | undefined): Promise<Webhook[]> {
    const viewer = requireViewer(ctx);
    if (viewer.role === Role.VIEWER) throw forbidden('Your role is read-only; webhooks are managed by stewards and administrators.');
    let code = (departmentCreditCode && identifierCode(departmentCreditCode)) || null;
    if (viewer.role === Role.STEWARD) {
      if (code && code !== viewer.departmentCreditCode) throw forbidden('A steward sees the webhooks of their own department only.');
      code = viewer.departmentCreditCode;
    }
    return ctx.em.find(Webhook, code ? { department: { creditCode: code } } : {}, { orderBy: { id: 'asc' }, populate: ['department'] });
  },

  /**
   * The webhook a mutation changes, locked for its transaction: two changes of one webhook
   * take turns, so the second sees what the first did (a deletion: NOT_FOUND). Unlocked,
   * two deletions both succeeded, and an update racing a deletion answered a webhook gone.
   * Locked before its department is read: FOR UPDATE cannot join the nullable department.
   */
  async requireManaged(em: EntityManager, viewer: Viewer, id: number): Promise<Webhook> {
    // Refused for their role before the webhook is looked up, so that the answer does not depend on whether it exists.
    if (viewer.role !== Role.ADMIN && viewer.role !== Role.STEWARD)
      throw forbidden('Your role is read-only; webhooks are managed by stewards and administrators.');
    const webhook = await em.findOne(Webhook, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!webhook) throw notFound(NO_WEBHOOK);
    await em.populate(webhook, ['department']);
    requireManager(viewer, webhook);
    return webhook;
  },

  /** Pages of deliveries of many webhooks, oldest first, one statement. */
  async deliveriesOf(em: EntityManager, webhookIds: readonly number[], page: PageRequest): Promise<WebhookDelivery[]> {
    return pagedChildren(em, WebhookDelivery, 'webhook_delivery', 'webhook_id', webhookIds, page);
  },

  /** Events by id, for the deliveries' loader (one statement per batch). */
  async eventsByIds(em: EntityManager, ids: readonly number[]): Promise<NotificationEventRow[]> {
    return em.find(NotificationEventRow, { id: { $in: [...ids] } });
  },
};

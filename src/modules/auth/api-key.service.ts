import { createHash, randomBytes } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { identifierCode } from '../../core/text';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { departmentService } from '../departments/department.service';
import { ApiKey } from './api-key.entity';
import { requireAdmin } from '../../core/permissions';
import { ActorKind, Role, type Viewer } from '../../core/viewer';

/** Every API key starts with this, so a bearer token is told apart from a JWT at a glance. */
export const API_KEY_PREFIX = 'mulu_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface NewApiKey {
  name: string;
  departmentCreditCode: string;
}

const AUDITED = ['name', 'department', 'prefix', 'revokedAt'] as const;

export const apiKeyService = {
  /** Issues a key for one department; the returned secret is never stored and cannot be shown again. */
  async create(ctx: RequestContext, input: NewApiKey): Promise<{ apiKey: ApiKey; secret: string }> {
    const admin = requireAdmin(ctx, 'create API keys');
    const name = trimText(input.name);
    if (!name) throw badInput('An API key needs a name saying which system uses it.');
    const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    return mutate(ctx, 'createApiKey', async (em, mutation) => {
      const department = await departmentService.requireByCreditCode(em, input.departmentCreditCode);
      const apiKey = em.create(ApiKey, { name, department, secretHash: hashSecret(secret), prefix: secret.slice(0, 12), createdBy: admin.id });
      await em.flush();
      mutation.audit({ entityType: 'ApiKey', entityId: apiKey.id, after: snapshot(apiKey, AUDITED) });
      return { apiKey, secret };
    });
  },

  /** Revokes a key at once; requests with it fail from then on. */
  async revoke(ctx: RequestContext, id: number): Promise<ApiKey> {
    requireAdmin(ctx, 'revoke API keys');
    return mutate(ctx, 'revokeApiKey', async (em, mutation) => {
      // Locked: of two revocations at once, the second waits and finds the key revoked (CONFLICT), as it would after.
      const apiKey = await em.findOne(ApiKey, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!apiKey) throw notFound('This API key does not exist.');
      if (apiKey.revokedAt) throw conflict(`API key "${apiKey.name}" is already revoked.`);
      const before = snapshot(apiKey, AUDITED);
      apiKey.revokedAt = new Date();
      mutation.audit({ entityType: 'ApiKey', entityId: apiKey.id, before, after: snapshot(apiKey, AUDITED) });
      return apiKey;
    });
  },

  /** Keys of one department, or all, oldest first; admins only. */
  async list(ctx: RequestContext, departmentCreditCode: string | null | undefined): Promise<ApiKey[]> {
    requireAdmin(ctx, 'list API keys');
    const where = departmentCreditCode ? { department: { creditCode: identifierCode(departmentCreditCode) } } : {};
    return ctx.em.find(ApiKey, where, { orderBy: { id: 'asc' } });
  },

  /** The viewer an unrevoked key stands for, or null; one statement. */
  async viewerForSecret(em: EntityManager, secret: string): Promise<Viewer | null> {
    const apiKey = await em.findOne(ApiKey, { secretHash: hashSecret(secret), revokedAt: null }, { populate: ['department'] });
    if (!apiKey) return null;
    const department = apiKey.department.getEntity();
    return { kind: ActorKind.API_KEY, id: String(apiKey.id), name: apiKey.name, role: Role.STEWARD, departmentCreditCode: department.creditCode };
  },
};

import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { requireAdmin } from '../../core/permissions';
import { checkRegionCode, possibleParentCodes } from './region-code';
import { Region, RegionLevel } from './region.entity';

export interface CreateRegionInput {
  code: string;
  name: string;
  /** Optional: derived from the code when absent. */
  parentCode?: string | null;
}

const LEVEL_NAMES: Record<RegionLevel, string> = { PROVINCE: 'province', CITY: 'city', DISTRICT: 'district' };

export const regionService = {
  /** A region by its code, or null (the `region` query). */
  async findByCode(ctx: RequestContext, code: string): Promise<Region | null> {
    return ctx.em.findOne(Region, { code });
  },

  /** Loads a region or fails with NOT_FOUND, for mutations that name one. */
  async requireByCode(em: EntityManager, code: string): Promise<Region> {
    const region = await em.findOne(Region, { code });
    if (!region) throw notFound(`Region ${code} does not exist. Create it first, or check the code.`);
    return region;
  },

  /**
   * Registers a region under the parent its code implies, keeping the
   * closure table (every ancestor of the region) in the same transaction.
   */
  async create(ctx: RequestContext, input: CreateRegionInput): Promise<Region> {
    requireAdmin(ctx, 'manage regions');
    const code = input.code.trim();
    const name = trimText(input.name);
    const check = checkRegionCode(code);
    if (!check.ok) throw badInput(check.reason);
    if (!name) throw badInput('A region needs a name.');
    const candidates = possibleParentCodes(code, check.level);

    return mutate(ctx, 'createRegion', async (em, mutation) => {
      if (await em.findOne(Region, { code })) throw conflict(`Region ${code} already exists.`);
      let parent: Region | null = null;
      if (input.parentCode) {
        const parentCode = input.parentCode.trim();
        if (!candidates.includes(parentCode)) {
          const expected = candidates.length ? `under ${candidates.join(' or ')}` : 'at the top, with no parent';
          throw badInput(`Region ${code} is a ${LEVEL_NAMES[check.level]}; by its code it belongs ${expected}, not under ${parentCode}.`);
        }
        parent = await em.findOne(Region, { code: parentCode }, { lockMode: LockMode.PESSIMISTIC_READ });
        if (!parent) throw notFound(`The parent region ${parentCode} does not exist. Create it first.`);
      } else if (candidates.length) {
        const found = await em.find(Region, { code: { $in: candidates } }, { lockMode: LockMode.PESSIMISTIC_READ });
        parent = candidates.map((c) => found.find((r) => r.code === c)).find((r) => r) ?? null;
        if (!parent) {
          throw notFound(
            `Region ${code} is a ${LEVEL_NAMES[check.level]} and belongs under ${candidates.join(' or ')}, which is not registered yet. Create it first.`,
          );
        }
      }
      if (parent && parent.level === RegionLevel.DISTRICT) throw badInput(`A district (${parent.code}) cannot hold other regions.`);

      const region = em.create(Region, { code, name, level: check.level, parent });
      await em.flush();
      await em.execute(
        `insert into region_closure (ancestor_code, descendant_code, depth)
         select ancestor_code, ?, depth + 1 from region_closure where descendant_code = ?
         union all select ?, ?, 0`,
        [code, parent?.code ?? '', code, code],
      );
      mutation.audit({ entityType: 'Region', entityId: code, after: snapshot(region, ['code', 'name', 'level', 'parent']) });
      return region;
    });
  },
};

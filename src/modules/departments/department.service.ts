import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { requireAdmin } from '../../core/permissions';
import { identifierCode } from '../../core/text';
import { regionService } from '../regions/region.service';
import { checkCreditCode } from './credit-code';
import { Department } from './department.entity';

export interface CreateDepartmentInput {
  creditCode: string;
  name: string;
  regionCode: string;
}

/** Validates a credit code or fails with the reason, for every entry point. */
export function requireValidCreditCode(creditCode: string): string {
  const check = checkCreditCode(creditCode);
  if (!check.ok) throw badInput(check.reason);
  return check.code;
}

export const departmentService = {
  /** A department by credit code, however it is typed (identifierCode), or null. */
  async findByCreditCode(ctx: RequestContext, creditCode: string): Promise<Department | null> {
    return ctx.em.findOne(Department, { creditCode: identifierCode(creditCode) });
  },

  /** Loads a department by credit code or fails with NOT_FOUND. */
  async requireByCreditCode(em: EntityManager, creditCode: string): Promise<Department> {
    const code = identifierCode(creditCode);
    const department = await em.findOne(Department, { creditCode: code });
    if (!department) throw notFound(`No department has the credit code ${code}.`);
    return department;
  },

  /** Registers a department in a region; the credit code is the business key. */
  async create(ctx: RequestContext, input: CreateDepartmentInput): Promise<Department> {
    requireAdmin(ctx, 'manage departments');
    const creditCode = requireValidCreditCode(input.creditCode);
    const name = trimText(input.name);
    if (!name) throw badInput('A department needs a name.');
    return mutate(ctx, 'createDepartment', async (em, mutation) => {
      const region = await regionService.requireByCode(em, input.regionCode.trim());
      const existing = await em.findOne(Department, { $or: [{ creditCode }, { region, name }] });
      if (existing?.creditCode === creditCode) throw conflict(`A department with credit code ${creditCode} already exists ("${existing.name}").`);
      if (existing) throw conflict(`Region ${region.code} already has a department named "${name}".`);
      const department = em.create(Department, { creditCode, name, region });
      await em.flush();
      mutation.audit({ entityType: 'Department', entityId: department.id, after: snapshot(department, ['creditCode', 'name', 'region']) });
      return department;
    });
  },
};

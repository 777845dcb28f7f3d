import type { EntityManager } from '@mikro-orm/postgresql';
import type { PageRequest } from '../../db/page';
import { badInput, conflict, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { holdsSpaceOrInvisible, identifierCode, trimText } from '../../core/text';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { requireDepartmentWriter } from '../../core/permissions';
import { unitCounts, unitPagedRows, type UnitKind, type UnitRow } from '../../db/unit-lists';
import type { Department } from '../departments/department.entity';
import { departmentService, requireValidCreditCode } from '../departments/department.service';
import { SUPERVISION_CATEGORIES, SupervisionCategory, SupervisionMainItem, SupervisionSubItem } from './supervision.entity';

export interface CreateMainItemInput {
  departmentCreditCode: string;
  code: string;
  name: string;
  legalBasis: string;
}

export interface CreateSubItemInput {
  departmentCreditCode: string;
  mainItemCode: string;
  code: string;
  name: string;
  category: SupervisionCategory;
}

export interface MoveSubItemInput {
  departmentCreditCode: string;
  subItemCode: string;
  toMainItemCode: string;
}

/** Narrows a drill-down list of sub-items; null fields do not narrow. */
export interface SubItemListFilter {
  /** true: sub-items with at least one counting record (子项覆盖); false: those without. */
  covered: boolean | null;
  category: SupervisionCategory | null;
}

/** Narrows a drill-down list of main items. */
export interface MainItemListFilter {
  /** true: main items with at least one covered sub-item (主项覆盖); false: those without. */
  covered: boolean | null;
}

/** SQL on alias `c` (supervision_sub_item): the definitions of covered sub-items the figures count. */
function subItemFilterSql(filter: SubItemListFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.covered != null) parts.push(filter.covered ? 'c.record_count > 0' : 'c.record_count = 0');
  if (filter.category) {
    parts.push('c.category = ?');
    params.push(filter.category);
  }
  return { sql: parts.length ? parts.join(' and ') : 'true', params };
}

/** SQL on alias `c` (supervision_main_item): covered means at least one covered sub-item. */
function mainItemFilterSql(filter: MainItemListFilter): { sql: string; params: unknown[] } {
  if (filter.covered == null) return { sql: 'true', params: [] };
  const covered = 'exists (select 1 from supervision_sub_item s where s.main_item_id = c.id and s.record_count > 0)';
  return { sql: filter.covered ? covered : `not ${covered}`, params: [] };
}

/** Trims a required text field and checks its length, with a reason a steward understands. */
export function requireText(value: string, what: string, max: number): string {
  return checkLength(trimText(value), what, max);
}

function checkLength(text: string, what: string, max: number): string {
  if (!text) throw badInput(`The ${what} must not be empty.`);
  if (text.length > max) throw badInput(`The ${what} is ${text.length} characters long; at most ${max} are allowed.`);
  return text;
}

/**
 * A main or sub-item code as it is kept and looked up on every path (the
 * mutations, the import file, record batches): an identifier code
 * (identifierCode: full-width folded, trimmed, upper-cased), 1 to 64
 * characters. What names an existing item needs no more: an item
 * registered before the form below was checked (`M 1`) is still found by
 * its code, as record batches find it.
 */
export function itemCode(value: string, what: ItemCodeKind): string {
  // Not trimText again: identifierCode trimmed it, and keeps the direction controls inside that checkNewItemCode refuses.
  return checkLength(identifierCode(value), what, 64);
}

/**
 * Refuses a new main or sub-item code (`code`, as itemCode made it from
 * `value`) with a space, line break or invisible character inside: `M 1` or
 * M1 with a zero-width space would be second codes that look like `M1`.
 * Other characters stay allowed: codes come from the catalogues each
 * department keeps.
 */
export function checkNewItemCode(code: string, value: string, what: ItemCodeKind): void {
  if (holdsSpaceOrInvisible(code)) {
    throw badInput(`${JSON.stringify(value)} is not a valid ${what}: a code holds no space, line break or invisible character.`);
  }
}

/** A code for an item being registered: itemCode, in the form checkNewItemCode asks. */
export function requireItemCode(value: string, what: ItemCodeKind): string {
  const code = itemCode(value, what);
  checkNewItemCode(code, value, what);
  return code;
}

type ItemCodeKind = 'main item code' | 'sub-item code';

/** The department named by the input, which the caller must be allowed to write. */
async function requireWritableDepartment(em: EntityManager, ctx: RequestContext, creditCode: string): Promise<Department> {
  const department = await departmentService.requireByCreditCode(em, requireValidCreditCode(creditCode));
  requireDepartmentWriter(ctx, department, 'manage the supervision items of this department');
  return department;
}

export const MAIN_AUDITED = ['code', 'name', 'legalBasis', 'department'] as const;
export const SUB_AUDITED = ['code', 'name', 'category', 'mainItem', 'department'] as const;

async function requireMainItem(em: EntityManager, department: Department, code: string): Promise<SupervisionMainItem> {
  const item = await em.findOne(SupervisionMainItem, { department, code });
  if (!item)
    throw notFound(`Department "${department.name}" (${department.creditCode}) has no supervision main item with code "${code}". Create the main item first.`);
  return item;
}

/**
 * Supervision items (监管事项): main items and their sub-items, registered by
 * a department's steward. Records and coverage live in
 * supervision-record.service.ts and the stats module.
 */
export const supervisionService = {
  /** Registers a main item; its code is unique within the department. */
  async createMainItem(ctx: RequestContext, input: CreateMainItemInput): Promise<SupervisionMainItem> {
    const code = requireItemCode(input.code, 'main item code');
    const name = requireText(input.name, 'main item name', 500);
    const legalBasis = requireText(input.legalBasis, 'legal basis', 20_000);
    return mutate(ctx, 'createSupervisionMainItem', async (em, mutation) => {
      const department = await requireWritableDepartment(em, ctx, input.departmentCreditCode);
      const existing = await em.findOne(SupervisionMainItem, { department, code });
      if (existing) throw conflict(`Department "${department.name}" already has a supervision main item with code "${code}" ("${existing.name}").`);
      const item = em.create(SupervisionMainItem, { department, code, name, legalBasis });
      await em.flush();
      mutation.audit({ entityType: 'SupervisionMainItem', entityId: item.id, after: snapshot(item, MAIN_AUDITED) });
      await em.flush();
      return item;
    });
  },

  /** Registers a sub-item under one of the department's main items; its code is unique within the department. */
  async createSubItem(ctx: RequestContext, input: CreateSubItemInput): Promise<SupervisionSubItem> {
    const code = requireItemCode(input.code, 'sub-item code');
    const name = requireText(input.name, 'sub-item name', 500);
    if (!SUPERVISION_CATEGORIES.includes(input.category))
      throw badInput(`"${input.category}" is not a sub-item category; use one of ${SUPERVISION_CATEGORIES.join(', ')}.`);
    return mutate(ctx, 'createSupervisionSubItem', async (em, mutation) => {
      const department = await requireWritableDepartment(em, ctx, input.departmentCreditCode);
      const mainItem = await requireMainItem(em, department, itemCode(input.mainItemCode, 'main item code'));
      const existing = await em.findOne(SupervisionSubItem, { department, code });
      if (existing) throw conflict(`Department "${department.name}" already has a supervision sub-item with code "${code}" ("${existing.name}").`);
      const item = em.create(SupervisionSubItem, { department, mainItem, code, name, category: input.category });
      await em.flush();
      mutation.audit({ entityType: 'SupervisionSubItem', entityId: item.id, after: snapshot(item, SUB_AUDITED) });
      await em.flush();
      return item;
    });
  },

  /**
   * Moves a sub-item to another main item of the same department. Its records
   * go with it, so coverage follows: the old main item may stop being
   * covered, the new one may become covered. Moving to the current main item
   * changes nothing.
   */
  async moveSubItem(ctx: RequestContext, input: MoveSubItemInput): Promise<SupervisionSubItem> {
    return mutate(ctx, 'moveSupervisionSubItem', async (em, mutation) => {
      const department = await requireWritableDepartment(em, ctx, input.departmentCreditCode);
      const code = itemCode(input.subItemCode, 'sub-item code');
      // Locked for the move, which changes no key column: `for no key update` lets records keep
      // arriving for the sub-item (their inserts take key-share locks on it), where `for update`
      // (MikroORM's PESSIMISTIC_WRITE; it has no mode for this lock) would queue them behind the move.
      await em.execute(`select id from supervision_sub_item where department_id = ? and code = ? for no key update`, [department.id, code]);
      const item = await em.findOne(SupervisionSubItem, { department, code });
      if (!item) throw notFound(`Department "${department.name}" (${department.creditCode}) has no supervision sub-item with code "${code}".`);
      const target = await requireMainItem(em, department, itemCode(input.toMainItemCode, 'main item code'));
      if (item.mainItem.id !== target.id) {
        const before = snapshot(item, SUB_AUDITED);
        item.mainItem = em.getReference(SupervisionMainItem, target.id, { wrapped: true });
        mutation.audit({ entityType: 'SupervisionSubItem', entityId: item.id, before, after: snapshot(item, SUB_AUDITED) });
        await em.flush();
      }
      return item;
    });
  },

  /** A page of main items of each of several departments or regions (with every region below), one statement. */
  async mainItemsOfUnits(
    em: EntityManager,
    kind: UnitKind,
    units: readonly string[],
    page: PageRequest,
    filter: MainItemListFilter,
  ): Promise<UnitRow<SupervisionMainItem>[]> {
    return unitPagedRows(em, SupervisionMainItem, 'supervision_main_item', kind, units, page, mainItemFilterSql(filter));
  },

  /** How many main items match `filter` in each of several units, one statement. */
  async mainItemCountOfUnits(em: EntityManager, kind: UnitKind, units: readonly string[], filter: MainItemListFilter): Promise<Map<string, number>> {
    return unitCounts(em, 'supervision_main_item', kind, units, mainItemFilterSql(filter));
  },

  /** A page of sub-items of each of several departments or regions (with every region below), one statement. */
  async subItemsOfUnits(
    em: EntityManager,
    kind: UnitKind,
    units: readonly string[],
    page: PageRequest,
    filter: SubItemListFilter,
  ): Promise<UnitRow<SupervisionSubItem>[]> {
    return unitPagedRows(em, SupervisionSubItem, 'supervision_sub_item', kind, units, page, subItemFilterSql(filter));
  },

  /** How many sub-items match `filter` in each of several units, one statement. */
  async subItemCountOfUnits(em: EntityManager, kind: UnitKind, units: readonly string[], filter: SubItemListFilter): Promise<Map<string, number>> {
    return unitCounts(em, 'supervision_sub_item', kind, units, subItemFilterSql(filter));
  },

  /** Sub-items of many main items, in registration order, one statement. */
  async subItemsOf(em: EntityManager, mainItemIds: readonly number[]): Promise<SupervisionSubItem[]> {
    return em.find(SupervisionSubItem, { mainItem: { $in: [...mainItemIds] } }, { orderBy: { id: 'asc' } });
  },

  /** Main items by id, for loaders (one statement per batch). */
  async mainItemsByIds(em: EntityManager, ids: readonly number[]): Promise<SupervisionMainItem[]> {
    return em.find(SupervisionMainItem, { id: { $in: [...ids] } });
  },
};

import type { EntityManager } from '@mikro-orm/postgresql';
import { departmentFiguresService } from '../stats/department-figures.service';
import type { RequestContext } from '../../core/request-context';
import { canWriteDepartment, requireDepartmentWriter } from '../../core/permissions';
import type { Viewer } from '../../core/viewer';
import { checkCreditCode } from '../departments/credit-code';
import type { SupervisionCategory } from '../supervision/supervision.entity';
import { checkNewItemCode, itemCode, MAIN_AUDITED, requireText, SUB_AUDITED } from '../supervision/supervision.service';
import { CATEGORY_LABELS, enumValue } from './import-columns';
import { changedFields, RowErrors, type AuditRow, type ImportRowResult } from './import-report';
import type { SheetRow } from './spreadsheet';

interface PlannedMain {
  row: number;
  creditCode: string;
  code: string;
  name: string;
  legalBasis: string;
}

interface PlannedSub {
  row: number;
  creditCode: string;
  mainCode: string;
  code: string;
  name: string;
  category: SupervisionCategory;
}

interface DepartmentRow {
  id: number;
  credit_code: string;
  name: string;
}

interface ExistingMain {
  id: number;
  department_id: number;
  code: string;
  name: string;
  legal_basis: string;
}

interface ExistingSub {
  id: number;
  department_id: number;
  code: string;
  name: string;
  category: SupervisionCategory;
  main_item_id: number;
  main_code: string;
}

const key = (...parts: (string | number)[]) => parts.join('\u0000');
const mainSnapshot = (code: string, name: string, legalBasis: string, department: number) => pick({ code, name, legalBasis, department }, MAIN_AUDITED);
const subSnapshot = (code: string, name: string, category: string, mainItem: number, department: number) =>
  pick({ code, name, category, mainItem, department }, SUB_AUDITED);
const pick = (all: Record<string, unknown>, fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, all[f]]));

/** Reads main items and sub-items from the rows, with the supervision service's own checks. */
function parseRows(rows: SheetRow[], errors: RowErrors): { mains: PlannedMain[]; subs: PlannedSub[]; mainRows: Map<string, number[]> } {
  const mains = new Map<string, PlannedMain>();
  const mainRows = new Map<string, number[]>();
  const subs = new Map<string, PlannedSub>();
  const subRows = new Map<string, number>();
  for (const { row, cells } of rows) {
    const errorsBefore = errors.list.length;
    const credit = checkCreditCode(cells.department_credit_code ?? '');
    if (!credit.ok)
      errors.add(row, 'department_credit_code', cells.department_credit_code ? credit.reason : 'The department credit code is required on every row.');
    const mainCode = errors.check(row, 'main_item_code', () => itemCode(cells.main_item_code ?? '', 'main item code'));
    if (!credit.ok || !mainCode) continue;
    const mk = key(credit.code, mainCode);
    const known = mains.get(mk);
    if (known) {
      if (cells.main_item_name && cells.main_item_name !== known.name)
        errors.add(row, 'main_item_name', `Main item ${mainCode} was named "${known.name}" on row ${known.row}; repeat the same name or leave the cell blank.`);
      if (cells.legal_basis && cells.legal_basis !== known.legalBasis)
        errors.add(row, 'legal_basis', `Main item ${mainCode} was given another legal basis on row ${known.row}; repeat it or leave the cell blank.`);
      mainRows.get(mk)!.push(row);
    } else {
      const name = errors.check(row, 'main_item_name', () => requireText(cells.main_item_name ?? '', 'main item name', 500));
      const legalBasis = errors.check(row, 'legal_basis', () => requireText(cells.legal_basis ?? '', 'legal basis', 20_000));
      if (name && legalBasis) {
        mains.set(mk, { row, creditCode: credit.code, code: mainCode, name, legalBasis });
        mainRows.set(mk, [row]);
      }
    }
    const subCode = cells.sub_item_code ?? '';
    if (!subCode) {
      if (cells.sub_item_name || cells.category)
        errors.add(row, 'sub_item_code', 'A sub-item needs its code; leave name and category blank on a row that registers only a main item.');
      continue;
    }
    const code = errors.check(row, 'sub_item_code', () => itemCode(subCode, 'sub-item code'));
    const name = errors.check(row, 'sub_item_name', () => requireText(cells.sub_item_name ?? '', 'sub-item name', 500));
    const category = enumValue(CATEGORY_LABELS, cells.category ?? '');
    if (!category) {
      errors.add(
        row,
        'category',
        `"${cells.category ?? ''}" is not a sub-item category; use one of ${Object.entries(CATEGORY_LABELS)
          .map(([v, l]) => `${v} or ${l}`)
          .join(', ')}.`,
      );
    }
    if (!code) continue;
    const sk = key(credit.code, code);
    const twice = subRows.get(sk);
    if (twice) {
      errors.add(row, 'sub_item_code', `Sub-item ${code} of this department is already on row ${twice}; codes are unique within a department.`);
      continue;
    }
    subRows.set(sk, row);
    if (!name || !category || errors.list.length > errorsBefore) continue;
    subs.set(sk, { row, creditCode: credit.code, mainCode, code, name, category });
  }
  return { mains: [...mains.values()], subs: [...subs.values()], mainRows };
}

/**
 * Plans and, unless it is a dry run or a row has an error, applies a
 * supervision items file: new main items and sub-items are created (as
 * createSupervisionMainItem / createSupervisionSubItem), known ones get the
 * file's name, legal basis and category, and a sub-item under another main
 * item of its department is moved (as moveSupervisionSubItem; its records go
 * with it). A constant number of statements whatever the number of rows.
 */
export async function importSupervisionItems(
  ctx: RequestContext,
  em: EntityManager,
  viewer: Viewer,
  rows: SheetRow[],
  dryRun: boolean,
  errors: RowErrors,
): Promise<{ results: ImportRowResult[]; audit: AuditRow[] }> {
  const { mains, subs } = parseRows(rows, errors);
  const { allowed, idOf } = await writableDepartments(ctx, em, viewer, mains, errors);
  const writableMains = mains.filter((m) => allowed.has(m.creditCode));
  const writableSubs = subs.filter((s) => allowed.has(s.creditCode));
  const existing = await lockExistingItems(em, writableMains, writableSubs, idOf);
  const mainPlan = planMains(writableMains, existing.mainOf, idOf, errors);
  const subPlan = planSubs(writableSubs, existing.subOf, idOf, errors);
  const results = [...mainPlan.results, ...subPlan.results];
  if (dryRun || errors.list.length) return { results, audit: [] };

  const audit: AuditRow[] = [];
  const mainIdOf = await applyMains(em, mainPlan, existing.mains, idOf, audit);
  await applySubs(em, subPlan, (s) => mainIdOf.get(key(idOf(s.creditCode), s.mainCode))!, idOf, audit);
  // Item counts and coverage of every department the file touched, as the services keep them.
  const touched = new Set([...mainPlan.created, ...subPlan.created].map((item) => idOf(item.creditCode)));
  for (const { existing: e } of subPlan.changed) touched.add(e.department_id);
  await departmentFiguresService.refreshSupervision(
    em,
    [...touched].sort((a, b) => a - b),
  );
  return { results, audit };
}

/**
 * The departments the file names that exist and the viewer may write; an
 * error on the first row of each main item whose department is unknown or
 * not the viewer's to write.
 */
async function writableDepartments(
  ctx: RequestContext,
  em: EntityManager,
  viewer: Viewer,
  mains: PlannedMain[],
  errors: RowErrors,
): Promise<{ allowed: Set<string>; idOf: (creditCode: string) => number }> {
  const codes = JSON.stringify([...new Set(mains.map((m) => m.creditCode))]);
  const departments: DepartmentRow[] = await em.execute(
    `select id, credit_code, name from department where credit_code in (select jsonb_array_elements_text(?::jsonb))`,
    [codes],
  );
  const departmentOf = new Map(departments.map((d) => [d.credit_code, d]));
  const allowed = new Set<string>();
  for (const main of mains) {
    const department = departmentOf.get(main.creditCode);
    if (!department) errors.add(main.row, 'department_credit_code', `No department has the credit code ${main.creditCode}.`);
    else if (canWriteDepartment(viewer, department.credit_code)) allowed.add(main.creditCode);
    else
      errors.check(main.row, 'department_credit_code', () =>
        requireDepartmentWriter(ctx, { creditCode: department.credit_code, name: department.name }, 'manage the supervision items of this department'),
      );
  }
  return { allowed, idOf: (creditCode: string) => departmentOf.get(creditCode)!.id };
}

/**
 * The stored main items and sub-items the file names, locked.
 *
 * The import changes no key column of these rows (name, legal basis, category, main item), so it
 * locks them `for no key update`: `for update` would also conflict with the key-share locks that
 * inserting supervision records (and moving sub-items) take through their foreign keys, and an
 * ingestion holding those in another order could deadlock with the import. Main items, then
 * sub-items, each in id order, then the department figures: the order every other path keeps.
 */
async function lockExistingItems(em: EntityManager, mains: PlannedMain[], subs: PlannedSub[], idOf: (creditCode: string) => number) {
  const mainKeys = JSON.stringify(mains.map((m) => ({ department_id: idOf(m.creditCode), code: m.code })));
  const subKeys = JSON.stringify(subs.map((s) => ({ department_id: idOf(s.creditCode), code: s.code })));
  const existingMains: ExistingMain[] = await em.execute(
    `select m.id, m.department_id, m.code, m.name, m.legal_basis from supervision_main_item m
       join jsonb_to_recordset(?::jsonb) as x(department_id int, code text) on m.department_id = x.department_id and m.code = x.code
      order by m.id for no key update of m`,
    [mainKeys],
  );
  const existingSubs: ExistingSub[] = await em.execute(
    `select s.id, s.department_id, s.code, s.name, s.category, s.main_item_id, m.code as main_code from supervision_sub_item s
       join supervision_main_item m on m.id = s.main_item_id
       join jsonb_to_recordset(?::jsonb) as x(department_id int, code text) on s.department_id = x.department_id and s.code = x.code
      order by s.id for no key update of s`,
    [subKeys],
  );
  return {
    mains: existingMains,
    mainOf: new Map(existingMains.map((m) => [key(m.department_id, m.code), m])),
    subOf: new Map(existingSubs.map((s) => [key(s.department_id, s.code), s])),
  };
}

/** What the file does to items of one kind: a result per item, the items to create and those to change. */
interface ItemPlan<P, E> {
  results: ImportRowResult[];
  created: P[];
  changed: { plan: P; existing: E }[];
}

function planMains(
  mains: PlannedMain[],
  mainOf: Map<string, ExistingMain>,
  idOf: (creditCode: string) => number,
  errors: RowErrors,
): ItemPlan<PlannedMain, ExistingMain> {
  const plan: ItemPlan<PlannedMain, ExistingMain> = { results: [], created: [], changed: [] };
  for (const main of mains) {
    const existing = mainOf.get(key(idOf(main.creditCode), main.code));
    const changed = existing ? changedFields({ name: existing.name, legalBasis: existing.legal_basis }, { name: main.name, legalBasis: main.legalBasis }) : [];
    // A code in the file names a stored item as it is kept; only a code to be registered must have the form of a new one.
    if (!existing) errors.check(main.row, 'main_item_code', () => checkNewItemCode(main.code, main.code, 'main item code'));
    if (!existing) plan.created.push(main);
    else if (changed.length) plan.changed.push({ plan: main, existing });
    plan.results.push(rowResult('SupervisionMainItem', main, existing, changed));
  }
  return plan;
}

function planSubs(
  subs: PlannedSub[],
  subOf: Map<string, ExistingSub>,
  idOf: (creditCode: string) => number,
  errors: RowErrors,
): ItemPlan<PlannedSub, ExistingSub> {
  const plan: ItemPlan<PlannedSub, ExistingSub> = { results: [], created: [], changed: [] };
  for (const sub of subs) {
    const existing = subOf.get(key(idOf(sub.creditCode), sub.code));
    const changed = existing
      ? changedFields(
          { name: existing.name, category: existing.category, mainItem: existing.main_code },
          { name: sub.name, category: sub.category, mainItem: sub.mainCode },
        )
      : [];
    if (!existing) errors.check(sub.row, 'sub_item_code', () => checkNewItemCode(sub.code, sub.code, 'sub-item code'));
    if (!existing) plan.created.push(sub);
    else if (changed.length) plan.changed.push({ plan: sub, existing });
    plan.results.push(rowResult('SupervisionSubItem', sub, existing, changed));
  }
  return plan;
}

function rowResult(
  entity: 'SupervisionMainItem' | 'SupervisionSubItem',
  item: { row: number; creditCode: string; code: string },
  existing: unknown,
  changed: string[],
): ImportRowResult {
  return {
    row: item.row,
    entity,
    departmentCreditCode: item.creditCode,
    code: item.code,
    action: !existing ? 'CREATE' : changed.length ? 'UPDATE' : 'UNCHANGED',
    ...(changed.length ? { changed } : {}),
  };
}

/** Creates and updates the main items (one statement each), with their audit rows; the ids of every main item by department and code. */
async function applyMains(
  em: EntityManager,
  plan: ItemPlan<PlannedMain, ExistingMain>,
  existingMains: ExistingMain[],
  idOf: (creditCode: string) => number,
  audit: AuditRow[],
): Promise<Map<string, number>> {
  const mainIdOf = new Map(existingMains.map((m) => [key(m.department_id, m.code), m.id]));
  if (plan.created.length) {
    const inserted: { id: number; department_id: number; code: string }[] = await em.execute(
      `insert into supervision_main_item (department_id, code, name, legal_basis)
       select x.department_id, x.code, x.name, x.legal_basis from jsonb_to_recordset(?::jsonb) as x(department_id int, code text, name text, legal_basis text)
       returning id, department_id, code`,
      [JSON.stringify(plan.created.map((m) => ({ department_id: idOf(m.creditCode), code: m.code, name: m.name, legal_basis: m.legalBasis })))],
    );
    for (const i of inserted) mainIdOf.set(key(i.department_id, i.code), i.id);
    for (const m of plan.created) {
      const department = idOf(m.creditCode);
      audit.push({
        entityType: 'SupervisionMainItem',
        entityId: String(mainIdOf.get(key(department, m.code))),
        before: null,
        after: mainSnapshot(m.code, m.name, m.legalBasis, department),
      });
    }
  }
  if (plan.changed.length) {
    await em.execute(
      `update supervision_main_item m set name = x.name, legal_basis = x.legal_basis, updated_at = now()
         from jsonb_to_recordset(?::jsonb) as x(id int, name text, legal_basis text) where m.id = x.id`,
      [JSON.stringify(plan.changed.map(({ plan: m, existing }) => ({ id: existing.id, name: m.name, legal_basis: m.legalBasis })))],
    );
    for (const { plan: m, existing: e } of plan.changed) {
      audit.push({
        entityType: 'SupervisionMainItem',
        entityId: String(e.id),
        before: mainSnapshot(e.code, e.name, e.legal_basis, e.department_id),
        after: mainSnapshot(e.code, m.name, m.legalBasis, e.department_id),
      });
    }
  }
  return mainIdOf;
}

/** Creates, updates and moves the sub-items (one statement each), with their audit rows. */
async function applySubs(
  em: EntityManager,
  plan: ItemPlan<PlannedSub, ExistingSub>,
  mainIdFor: (s: PlannedSub) => number,
  idOf: (creditCode: string) => number,
  audit: AuditRow[],
): Promise<void> {
  if (plan.created.length) {
    const inserted: { id: number; department_id: number; code: string }[] = await em.execute(
      `insert into supervision_sub_item (department_id, main_item_id, code, name, category)
       select x.department_id, x.main_item_id, x.code, x.name, x.category::supervision_category
         from jsonb_to_recordset(?::jsonb) as x(department_id int, main_item_id int, code text, name text, category text)
       returning id, department_id, code`,
      [
        JSON.stringify(
          plan.created.map((s) => ({ department_id: idOf(s.creditCode), main_item_id: mainIdFor(s), code: s.code, name: s.name, category: s.category })),
        ),
      ],
    );
    const subIdOf = new Map(inserted.map((i) => [key(i.department_id, i.code), i.id]));
    for (const s of plan.created) {
      const department = idOf(s.creditCode);
      audit.push({
        entityType: 'SupervisionSubItem',
        entityId: String(subIdOf.get(key(department, s.code))),
        before: null,
        after: subSnapshot(s.code, s.name, s.category, mainIdFor(s), department),
      });
    }
  }
  if (plan.changed.length) {
    await em.execute(
      `update supervision_sub_item s set name = x.name, category = x.category::supervision_category, main_item_id = x.main_item_id, updated_at = now()
         from jsonb_to_recordset(?::jsonb) as x(id int, name text, category text, main_item_id int) where s.id = x.id`,
      [JSON.stringify(plan.changed.map(({ plan: s, existing }) => ({ id: existing.id, name: s.name, category: s.category, main_item_id: mainIdFor(s) })))],
    );
    for (const { plan: s, existing: e } of plan.changed) {
      audit.push({
        entityType: 'SupervisionSubItem',
        entityId: String(e.id),
        before: subSnapshot(e.code, e.name, e.category, e.main_item_id, e.department_id),
        after: subSnapshot(e.code, s.name, s.category, mainIdFor(s), e.department_id),
      });
    }
  }
}

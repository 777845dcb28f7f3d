import type { EntityManager } from '@mikro-orm/postgresql';
import { departmentFiguresService } from '../stats/department-figures.service';
import { badInput } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { canWriteDepartment, requireDepartmentWriter } from '../../core/permissions';
import type { Viewer } from '../../core/viewer';
import { DirectoryStatus, type InformationItem, type ResourceFormat, type ShareMethod, type ShareType, type UpdateCycle } from '../catalogue/directory.entity';
import { AUDITED as DIRECTORY_AUDITED, checkCode, checkInformationItems, checkShareRules } from '../catalogue/directory.service';
import { checkCreditCode } from '../departments/credit-code';
import { DIRECTORY_COLUMNS, enumValue, RESOURCE_FORMAT_LABELS, SHARE_METHOD_LABELS, SHARE_TYPE_LABELS, UPDATE_CYCLE_LABELS } from './import-columns';
import { changedFields, RowErrors, type AuditRow, type ImportRowResult } from './import-report';
import type { SheetRow } from './spreadsheet';

/** The metadata of a directory as a file gives it (all of it: a blank optional column clears the field). */
interface DirectoryFields {
  name: string;
  summary: string | null;
  classification: string | null;
  resourceFormat: ResourceFormat;
  informationItems: InformationItem[];
  shareType: ShareType;
  shareConditions: string | null;
  shareMethod: ShareMethod | null;
  openToPublic: boolean;
  updateCycle: UpdateCycle;
}

interface PlannedDirectory {
  row: number;
  rows: number[];
  code: string;
  creditCode: string;
  fields: DirectoryFields;
}

interface ExistingDirectory {
  id: number;
  code: string;
  department_id: number;
  credit_code: string;
  department_name: string;
  name: string;
  summary: string | null;
  classification: string | null;
  resource_format: ResourceFormat;
  information_items: InformationItem[] | string;
  share_type: ShareType;
  share_conditions: string | null;
  share_method: ShareMethod | null;
  open_to_public: boolean;
  update_cycle: UpdateCycle;
  status: DirectoryStatus;
  published_at: Date | string | null;
  withdrawn_at: Date | string | null;
}

interface DepartmentRow {
  id: number;
  credit_code: string;
  name: string;
}

const PER_DIRECTORY = DIRECTORY_COLUMNS.filter((c) => c.perEntity).map((c) => c.key);
const TRUE = ['是', 'y', 'yes', 'true', '1'];
const FALSE = ['否', 'n', 'no', 'false', '0', ''];

const items = (list: InformationItem[]) => list.map((i) => ({ name: i.name, dataType: i.dataType, description: i.description ?? null }));

/** The audited fields of a directory, as directoryService's audit entries hold them. */
function auditSnapshot(
  code: string,
  departmentId: number,
  f: DirectoryFields,
  status: DirectoryStatus,
  publishedAt: Date | string | null,
  withdrawnAt: Date | string | null,
): Record<string, unknown> {
  const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);
  const all: Record<string, unknown> = {
    code,
    department: departmentId,
    ...f,
    informationItems: items(f.informationItems),
    status,
    publishedAt: iso(publishedAt),
    withdrawnAt: iso(withdrawnAt),
  };
  return Object.fromEntries(DIRECTORY_AUDITED.map((k) => [k, all[k] ?? null]));
}

function existingFields(e: ExistingDirectory): DirectoryFields {
  const list = typeof e.information_items === 'string' ? (JSON.parse(e.information_items) as InformationItem[]) : e.information_items;
  return {
    name: e.name,
    summary: e.summary,
    classification: e.classification,
    resourceFormat: e.resource_format,
    informationItems: items(list),
    shareType: e.share_type,
    shareConditions: e.share_conditions,
    shareMethod: e.share_method,
    openToPublic: e.open_to_public,
    updateCycle: e.update_cycle,
  };
}

/** Reads each directory's rows into its fields, with the directory service's own checks. */
function parseRows(rows: SheetRow[], errors: RowErrors): PlannedDirectory[] {
  const planned: PlannedDirectory[] = [];
  for (const [code, group] of groupByCode(rows, errors)) {
    const directory = parseDirectory(code, group, errors);
    if (directory) planned.push(directory);
  }
  return planned;
}

/** The rows of each directory code, in file order; a row without a valid code is an error. */
function groupByCode(rows: SheetRow[], errors: RowErrors): Map<string, SheetRow[]> {
  const groups = new Map<string, SheetRow[]>();
  for (const row of rows) {
    const code = errors.check(row.row, 'code', () =>
      row.cells.code
        ? checkCode(row.cells.code)
        : (() => {
            throw badInput('A directory code is required on every row.');
          })(),
    );
    if (!code) continue;
    const list = groups.get(code);
    if (list) list.push(row);
    else groups.set(code, [row]);
  }
  return groups;
}

/**
 * One directory from its rows: the directory's cells from its first row
 * (later rows may repeat them or leave them blank), one information item per
 * row. Null when any of it has an error; every error is reported, so a file
 * shows all of its problems at once.
 */
function parseDirectory(code: string, group: SheetRow[], errors: RowErrors): PlannedDirectory | null {
  const first = group[0];
  let ok = checkRepeatedCells(code, group, errors);
  const cells = firstRowReader(code, first, errors);
  const credit = checkCreditCode(first.cells.department_credit_code ?? '');
  if (!credit.ok) {
    errors.add(
      first.row,
      'department_credit_code',
      first.cells.department_credit_code ? credit.reason : `The department credit code of directory ${code} is required.`,
    );
    ok = false;
  }
  const name = cells.need('name', 'name') && cells.limited('name', 'directory name', 200);
  const summary = cells.limited('summary', 'summary', 20_000);
  const classification = cells.limited('classification', 'classification', 200);
  const resourceFormat = cells.oneOf('resource_format', RESOURCE_FORMAT_LABELS, 'resource format');
  const shareType = cells.oneOf('share_type', SHARE_TYPE_LABELS, 'share type');
  const shareConditions = cells.limited('share_conditions', 'share conditions', 20_000);
  const shareMethod = cells.oneOf('share_method', SHARE_METHOD_LABELS, 'share method', true);
  const updateCycle = cells.oneOf('update_cycle', UPDATE_CYCLE_LABELS, 'update cycle');
  const openToPublic = cells.yesNo('open_to_public');
  const list = parseInformationItems(code, group, errors);
  if (!cells.ok() || !list) ok = false;
  // The share rule is checked whenever its fields could be read, so that a file reports all of its problems at once.
  if (name && shareType) errors.check(first.row, 'share_conditions', () => checkShareRules({ name, shareType, shareConditions }));
  if (!ok) return null;
  const checkedItems = errors.check(first.row, 'item_name', () => checkInformationItems(list!));
  if (!checkedItems || (name && shareType && shareType !== 'UNCONDITIONAL' && !shareConditions)) return null;
  const fields: DirectoryFields = {
    name: name!,
    summary,
    classification,
    resourceFormat: resourceFormat!,
    informationItems: items(checkedItems),
    shareType: shareType!,
    shareConditions,
    shareMethod,
    openToPublic: openToPublic!,
    updateCycle: updateCycle!,
  };
  return { row: first.row, rows: group.map((g) => g.row), code, creditCode: (credit as { code: string }).code, fields };
}

/** Later rows of a directory may leave its cells blank or repeat them, not give another value. */
function checkRepeatedCells(code: string, group: SheetRow[], errors: RowErrors): boolean {
  const [first, ...rest] = group;
  let ok = true;
  for (const row of rest) {
    for (const key of PER_DIRECTORY) {
      const value = row.cells[key] ?? '';
      if (value && value !== (first.cells[key] ?? '')) {
        errors.add(
          row.row,
          key,
          `Directory ${code} was given "${first.cells[key] ?? ''}" here on row ${first.row}; repeat the same value or leave the cell blank.`,
        );
        ok = false;
      }
    }
  }
  return ok;
}

/** Reads a directory's cells from its first row, adding an error for each cell it cannot take; `ok()` is false once one was added. */
function firstRowReader(code: string, first: SheetRow, errors: RowErrors) {
  const c = first.cells;
  const r = first.row;
  let ok = true;
  const need = (key: string, what: string): string | null => {
    const value = c[key] ?? '';
    if (!value) {
      errors.add(r, key, `The ${what} of directory ${code} is required (on its first row).`);
      ok = false;
      return null;
    }
    return value;
  };
  const oneOf = <T extends string>(key: string, labels: Record<T, string>, what: string, optional = false): T | null => {
    const value = c[key] ?? '';
    if (!value && optional) return null;
    if (!value) return need(key, what) as null;
    const parsed = enumValue(labels, value);
    if (!parsed) {
      errors.add(
        r,
        key,
        `"${String(value)}" is not a ${what}; use one of ${Object.entries(labels)
          .map(([v, l]) => `${v} or ${String(l)}`)
          .join(', ')}.`,
      );
      ok = false;
    }
    return parsed;
  };
  const limited = (key: string, what: string, max: number): string | null => {
    const value = c[key] ?? '';
    if (value.length > max) {
      errors.add(r, key, `The ${what} is ${value.length} characters long; at most ${max} are allowed.`);
      ok = false;
    }
    return value || null;
  };
  const yesNo = (key: string): boolean | null => {
    const text = (c[key] ?? '').toLowerCase();
    const value = TRUE.includes(text) ? true : FALSE.includes(text) ? false : null;
    if (value === null) {
      errors.add(r, key, `"${c[key]}" is not yes or no; write 是 or 否 (true or false).`);
      ok = false;
    }
    return value;
  };
  return { need, oneOf, limited, yesNo, ok: () => ok };
}

/** One information item per row of the directory; null when a row's item has an error (each is reported). */
function parseInformationItems(code: string, group: SheetRow[], errors: RowErrors): InformationItem[] | null {
  const seen = new Map<string, number>();
  const list: InformationItem[] = [];
  let ok = true;
  for (const row of group) {
    const itemName = row.cells.item_name ?? '';
    const dataType = row.cells.item_data_type ?? '';
    if (!itemName) errors.add(row.row, 'item_name', 'Every row is one information item and needs its name.');
    if (!dataType) errors.add(row.row, 'item_data_type', `Information item "${itemName}" needs a data type.`);
    if (itemName && seen.has(itemName))
      errors.add(
        row.row,
        'item_name',
        `Information item "${itemName}" of directory ${code} is already on row ${seen.get(itemName)}; names must be unique within a directory.`,
      );
    if (!itemName || !dataType || seen.has(itemName)) {
      ok = false;
      continue;
    }
    seen.set(itemName, row.row);
    list.push({ name: itemName, dataType, description: row.cells.item_description || null });
  }
  return ok ? list : null;
}

const jsonList = (values: Iterable<string>) => JSON.stringify([...new Set(values)]);

/**
 * Plans and, unless it is a dry run or a row has an error, applies a
 * directories file: new codes are registered as drafts (as
 * registerDirectory), known codes of the same department get the file's
 * metadata (as updateDirectory: a withdrawn directory is frozen). A constant
 * number of statements whatever the number of rows.
 */
export async function importDirectories(
  ctx: RequestContext,
  em: EntityManager,
  viewer: Viewer,
  rows: SheetRow[],
  dryRun: boolean,
  errors: RowErrors,
): Promise<{ results: ImportRowResult[]; audit: AuditRow[] }> {
  const planned = parseRows(rows, errors);
  const departments: DepartmentRow[] = await em.execute(
    `select id, credit_code, name from department where credit_code in (select jsonb_array_elements_text(?::jsonb))`,
    [jsonList(planned.map((p) => p.creditCode))],
  );
  const departmentOf = new Map(departments.map((d) => [d.credit_code, d]));
  const existing: ExistingDirectory[] = await em.execute(
    `select c.id, c.code, c.department_id, d.credit_code, d.name as department_name, c.name, c.summary, c.classification, c.resource_format, c.information_items,
            c.share_type, c.share_conditions, c.share_method, c.open_to_public, c.update_cycle, c.status, c.published_at, c.withdrawn_at
       from resource_directory c join department d on d.id = c.department_id
      where c.code in (select jsonb_array_elements_text(?::jsonb)) order by c.id for update of c`,
    [jsonList(planned.map((p) => p.code))],
  );
  const existingOf = new Map(existing.map((e) => [e.code, e]));

  const results: ImportRowResult[] = [];
  const creates: { plan: PlannedDirectory; department: DepartmentRow }[] = [];
  const updates: { plan: PlannedDirectory; existing: ExistingDirectory }[] = [];
  for (const plan of planned) {
    const department = departmentOf.get(plan.creditCode);
    if (!department) {
      errors.add(plan.row, 'department_credit_code', `No department has the credit code ${plan.creditCode}.`);
      continue;
    }
    if (!canWriteDepartment(viewer, department.credit_code)) {
      errors.check(plan.row, 'department_credit_code', () =>
        requireDepartmentWriter(ctx, { creditCode: department.credit_code, name: department.name }, `register directories of ${department.name}`),
      );
      continue;
    }
    const known = existingOf.get(plan.code);
    const result = (action: ImportRowResult['action'], changed?: string[]) =>
      plan.rows.forEach((row) =>
        results.push({ row, entity: 'ResourceDirectory', departmentCreditCode: plan.creditCode, code: plan.code, action, ...(changed ? { changed } : {}) }),
      );
    if (!known) {
      creates.push({ plan, department });
      result('CREATE');
    } else if (known.department_id !== department.id) {
      errors.add(plan.row, 'code', `Directory code ${plan.code} is already taken in the catalogue by ${known.department_name} (${known.credit_code}).`);
    } else if (known.status === DirectoryStatus.WITHDRAWN) {
      errors.add(plan.row, 'code', `Directory ${plan.code} is withdrawn; publish it again before changing it.`);
    } else {
      const changed = changedFields(existingFields(known) as unknown as Record<string, unknown>, plan.fields as unknown as Record<string, unknown>);
      if (changed.length) updates.push({ plan, existing: known });
      result(changed.length ? 'UPDATE' : 'UNCHANGED', changed.length ? changed : undefined);
    }
  }
  if (dryRun || errors.list.length) return { results, audit: [] };

  const audit: AuditRow[] = [];
  if (creates.length) {
    const inserted: { id: number; code: string }[] = await em.execute(
      `insert into resource_directory (code, name, department_id, summary, classification, resource_format, information_items, share_type, share_conditions, share_method, open_to_public, update_cycle)
       select x.code, x.name, x.department_id, x.summary, x.classification, x.resource_format::resource_format, x.information_items, x.share_type::share_type,
              x.share_conditions, x.share_method::share_method, x.open_to_public, x.update_cycle::update_cycle
         from jsonb_to_recordset(?::jsonb) as x(code text, name text, department_id int, summary text, classification text, resource_format text, information_items jsonb,
              share_type text, share_conditions text, share_method text, open_to_public boolean, update_cycle text)
       returning id, code`,
      [JSON.stringify(creates.map(({ plan, department }) => ({ code: plan.code, department_id: department.id, ...toColumns(plan.fields) })))],
    );
    const idOf = new Map(inserted.map((i) => [i.code, i.id]));
    for (const { plan, department } of creates) {
      audit.push({
        entityType: 'ResourceDirectory',
        entityId: String(idOf.get(plan.code)),
        before: null,
        after: auditSnapshot(plan.code, department.id, plan.fields, DirectoryStatus.DRAFT, null, null),
      });
    }
  }
  if (updates.length) {
    await em.execute(
      `update resource_directory c set name = x.name, summary = x.summary, classification = x.classification, resource_format = x.resource_format::resource_format,
              information_items = x.information_items, share_type = x.share_type::share_type, share_conditions = x.share_conditions,
              share_method = x.share_method::share_method, open_to_public = x.open_to_public, update_cycle = x.update_cycle::update_cycle, updated_at = now()
         from jsonb_to_recordset(?::jsonb) as x(id int, name text, summary text, classification text, resource_format text, information_items jsonb,
              share_type text, share_conditions text, share_method text, open_to_public boolean, update_cycle text)
        where c.id = x.id`,
      [JSON.stringify(updates.map(({ plan, existing: e }) => ({ id: e.id, ...toColumns(plan.fields) })))],
    );
    for (const { plan, existing: e } of updates) {
      audit.push({
        entityType: 'ResourceDirectory',
        entityId: String(e.id),
        before: auditSnapshot(e.code, e.department_id, existingFields(e), e.status, e.published_at, e.withdrawn_at),
        after: auditSnapshot(e.code, e.department_id, plan.fields, e.status, e.published_at, e.withdrawn_at),
      });
    }
    // An update cycle may have changed on published directories: their staleness and the figures follow.
    await departmentFiguresService.refreshCatalogue(
      em,
      [...new Set(updates.map(({ existing }) => existing.department_id))].sort((a, b) => a - b),
    );
  }
  return { results, audit };
}

function toColumns(f: DirectoryFields) {
  return {
    name: f.name,
    summary: f.summary,
    classification: f.classification,
    resource_format: f.resourceFormat,
    information_items: f.informationItems,
    share_type: f.shareType,
    share_conditions: f.shareConditions,
    share_method: f.shareMethod,
    open_to_public: f.openToPublic,
    update_cycle: f.updateCycle,
  };
}

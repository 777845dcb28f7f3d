import { cleanText, columnKey, identifierCode, trimText } from '../../core/text';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedRows } from '../../db/paged-children';
import { executePrepared } from '../../db/prepared';
import { unitCounts, unitPagedRows, type UnitKind, type UnitRow } from '../../db/unit-lists';
import { staleSql, turnsStaleAtSql } from './staleness';
import { CLOCK_ACCOUNTED_FOR, dependsOnTheClock } from '../../db/clock-reads';
import { badInput, conflict, notFound, type MuluError } from '../../core/errors';
import { toPage, type Page, type PageRequest } from '../../db/page';
import type { RequestContext } from '../../core/request-context';
import { departmentService } from '../departments/department.service';
import { Department } from '../departments/department.entity';
import { DepartmentRow } from '../departments/department.row';
import { RegionRow } from '../regions/region.row';
import type { RegionLevel } from '../regions/region.entity';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { canReadDraftsOf, draftsReadBy, requireDepartmentWriter, type DraftsRead } from '../../core/permissions';
import { DirectoryStatus, ResourceDirectory, ResourceFormat, ShareMethod, ShareType, UpdateCycle, type InformationItem } from './directory.entity';

/** Metadata a steward may set on a directory (all optional on update). */
export interface DirectoryMetadata {
  name?: string;
  summary?: string | null;
  classification?: string | null;
  resourceFormat?: ResourceFormat;
  informationItems?: InformationItem[];
  shareType?: ShareType;
  shareConditions?: string | null;
  shareMethod?: ShareMethod | null;
  openToPublic?: boolean;
  updateCycle?: UpdateCycle;
}

/** What a new directory is registered with; its GraphQL form is RegisterDirectoryInput (directory.types.ts). */
export interface NewDirectory extends DirectoryMetadata {
  code: string;
  name: string;
  departmentCreditCode: string;
  resourceFormat: ResourceFormat;
  shareType: ShareType;
  updateCycle: UpdateCycle;
}

/** A directory is named by its global ID or by its code. */
export interface DirectoryRef {
  id?: number | null;
  code?: string | null;
}

export interface UpdateDirectoryInput extends DirectoryMetadata, DirectoryRef {
  /** A new code; only while the directory is a draft. */
  newCode?: string | null;
}

/** Filters of catalogue searches; every field narrows the result. */
export interface DirectoryFilter {
  departmentCreditCode?: string | null;
  regionCode?: string | null;
  status?: DirectoryStatus | null;
  shareType?: ShareType | null;
  text?: string | null;
  /** true: only stale directories; false: only the others. */
  stale?: boolean | null;
  /** true: only published directories with an active mount; false: only published ones without. */
  mounted?: boolean | null;
  /** Whose drafts the caller reads (draftsReadBy): other drafts are left out of every list, count and lookup. */
  draftsRead: DraftsRead;
}

/** Fields the audit trail compares before and after a change. */
export const AUDITED = [
  'code',
  'name',
  'department',
  'summary',
  'classification',
  'resourceFormat',
  'informationItems',
  'shareType',
  'shareConditions',
  'shareMethod',
  'openToPublic',
  'updateCycle',
  'status',
  'publishedAt',
  'withdrawnAt',
] as const;

const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$/;

/** A directory code as kept (identifierCode: full-width folded, trimmed, upper-cased), its form checked; exported for the bulk import. */
export function checkCode(code: string): string {
  const kept = identifierCode(code);
  if (!CODE_PATTERN.test(kept)) {
    throw badInput(`"${code}" is not a valid directory code: use 1 to 64 letters, digits, "/", "_", "." or "-", starting with a letter or digit.`);
  }
  return kept;
}

/** Trims information items and checks names, types and uniqueness; exported for the bulk import. */
export function checkInformationItems(items: InformationItem[]): InformationItem[] {
  /** Names by columnKey. */
  const seen = new Map<string, string>();
  return items.map((item, index) => {
    // NFC here too (the GraphQL path has it already), so "é" and "e\u0301" collide on the import path as well.
    const name = trimText(cleanText(item.name, `informationItems[${index}].name`));
    const dataType = trimText(cleanText(item.dataType, `informationItems[${index}].dataType`));
    if (!name) throw badInput(`Information item ${index + 1} needs a name.`);
    if (!dataType) throw badInput(`Information item ${index + 1} ("${name}") needs a data type.`);
    // Compared as a file's header or a row's key finds its item (columnKey): 面积(m²) and 面积（m2）, ID and ＩＤ are one column.
    const first = seen.get(columnKey(name));
    if (first === name) throw badInput(`Information item "${name}" appears twice; names must be unique within a directory.`);
    if (first !== undefined)
      throw badInput(
        `Information items "${first}" and "${name}" differ only in full-width or compatibility characters, so a file's column or a row's key would name either; names must be unique within a directory.`,
      );
    seen.set(columnKey(name), name);
    // Stored only when given, so directories written before value types existed read the same.
    return {
      name,
      dataType,
      description: (item.description != null && trimText(item.description)) || null,
      ...(item.valueType ? { valueType: item.valueType } : {}),
      ...(item.required ? { required: true } : {}),
    };
  });
}

/** Rules that tie the share type to its conditions, checked after every change; exported for the bulk import. */
export function checkShareRules(directory: Pick<ResourceDirectory, 'name' | 'shareType' | 'shareConditions'>): void {
  if (!trimText(directory.name)) throw badInput('A directory needs a name.');
  const needsBasis = directory.shareType !== ShareType.UNCONDITIONAL;
  if (needsBasis && !trimText(directory.shareConditions ?? '')) {
    throw badInput(
      directory.shareType === ShareType.CONDITIONAL
        ? 'A conditionally shared directory needs its share conditions (shareConditions).'
        : 'A directory that is not shared needs the basis for not sharing it (shareConditions), e.g. the law that forbids it.',
    );
  }
}

function applyMetadata(directory: ResourceDirectory, input: DirectoryMetadata): void {
  const fields = ['name', 'summary', 'classification', 'resourceFormat', 'shareType', 'shareConditions', 'shareMethod', 'openToPublic', 'updateCycle'] as const;
  for (const field of fields) {
    if (input[field] !== undefined) Object.assign(directory, { [field]: typeof input[field] === 'string' ? trimText(input[field]) : input[field] });
  }
  if (input.informationItems !== undefined) directory.informationItems = checkInformationItems(input.informationItems);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** The answer to a directory reference without a directory, and to one the caller may not know of (hiddenDraft). */
export function noSuchDirectory(ref: DirectoryRef): MuluError {
  return notFound(`Directory ${ref.code ?? ''} does not exist.`.replace('  ', ' '));
}

/**
 * Whether this directory is another department's draft for the caller
 * (canReadDraftsOf): every path, writes included, answers it as a missing
 * one. A FORBIDDEN naming its department would tell anyone trying codes or
 * ids which drafts exist, and whose.
 */
export function hiddenDraft(ctx: RequestContext, directory: { status: DirectoryStatus }, department: { creditCode: string }): boolean {
  return directory.status === DirectoryStatus.DRAFT && !canReadDraftsOf(ctx.viewer, department.creditCode);
}

/** SQL condition on alias `c` for a filter; department and region by business key. */
export function directoryFilterSql(filter: DirectoryFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.draftsRead !== 'ALL') {
    if (filter.draftsRead === null) parts.push(`c.status <> 'DRAFT'`);
    else {
      parts.push(`(c.status <> 'DRAFT' or c.department_id = (select id from department where credit_code = ?))`);
      params.push(filter.draftsRead.department);
    }
  }
  if (filter.departmentCreditCode) {
    parts.push('c.department_id = (select id from department where credit_code = ?)');
    params.push(identifierCode(filter.departmentCreditCode));
  }
  if (filter.regionCode) {
    parts.push(
      `c.department_id in (select dep.id from department dep join region_closure rc on rc.descendant_code = dep.region_code where rc.ancestor_code = ?)`,
    );
    params.push(filter.regionCode.trim());
  }
  if (filter.status) {
    parts.push('c.status = ?');
    params.push(filter.status);
  }
  if (filter.shareType) {
    parts.push('c.share_type = ?');
    params.push(filter.shareType);
  }
  // The name's own hygiene (trimText): a search pasted with direction controls finds the names stored without them.
  const text = trimText(filter.text ?? '');
  if (text) {
    // `name ilike p` itself: in a multi-byte database PostgreSQL's ILIKE is lower() of both sides, then LIKE
    // (like.c, Generic_Text_IC_like). Written out, lower(name) and lower(code) are read from
    // resource_directory_search_index instead of lower-casing every directory the search passes over (half
    // the statement's time on a city's directories).
    parts.push(`(lower(c.name) like lower(?) or lower(c.code) like lower(?))`);
    const pattern = `%${escapeLike(text)}%`;
    params.push(pattern, pattern);
  }
  if (filter.stale != null) {
    // `is not true`: a directory the definition answers null for is not stale, as in its `stale` field.
    parts.push(filter.stale ? staleSql('c') : `${staleSql('c')} is not true`);
  }
  if (filter.mounted != null) {
    // The one definition of the `mounted` field and of mountedDirectories: published, at least one active mount.
    parts.push(`c.status = 'PUBLISHED' and c.active_mount_count ${filter.mounted ? '>' : '='} 0`);
  }
  return { sql: parts.length ? parts.join(' and ') : 'true', params };
}

/**
 * A directory as a page of the catalogue shows it: every property of the
 * entity, the department by id, untracked by the entity manager. What the
 * GraphQL type's resolvers read (src/modules/catalogue/directory.resolver.ts
 * and the fields other modules add) is the same on an entity.
 */
export type DirectoryView = Omit<ResourceDirectory, 'department'> & {
  department: { id: number };
  /** Whether it was stale when its page was read, and until when that holds (epoch ms; null: no clock alone changes it). */
  staleness?: { stale: boolean; until: number | null };
  /**
   * What a catalogue page read with the directory in its one statement: its
   * department (with the department's region) and its active mounts, as
   * the mounts' columns (the mounts module makes its rows of them). The
   * fields read these instead of their loaders; absent for a directory read
   * otherwise.
   */
  page?: { department: DepartmentRow; activeMounts: readonly Record<string, unknown>[] };
};

/**
 * Columns a catalogue page reads besides the directory's own: its `stale`
 * flag (staleness.ts), its department and region (PAGE_JOINS), and its
 * active mounts oldest first, each mount with the columns its loader reads
 * (mount.row.ts), timestamps and counts as the text PostgreSQL sends for
 * them, so that they are parsed exactly as there. One statement answers
 * the whole page.
 */
const PAGE_COLUMNS = (alias: string) =>
  `${staleSql(alias)} as page_stale, (extract(epoch from ${turnsStaleAtSql(alias)}) * 1000)::float8 as page_stale_until,
   page_d.credit_code as page_department_credit_code, page_d.name as page_department_name,
   page_r.code as page_region_code, page_r.name as page_region_name, page_r.level as page_region_level, page_r.parent_code as page_region_parent_code,
   (select coalesce(json_agg(json_build_object('id', m.id, 'directory_id', m.directory_id, 'kind', m.kind, 'locator', m.locator,
                                               'record_count', m.record_count::text, 'hosted', m.hosted, 'dataset_version', m.dataset_version,
                                               'last_refreshed_at', m.last_refreshed_at::text, 'active', m.active,
                                               'mounted_at', m.mounted_at::text, 'unmounted_at', m.unmounted_at::text,
                                               'provider_credit_code', page_d.credit_code) order by m.id), '[]')
      from mount m where m.directory_id = ${alias}.id and m.active) as page_mounts`;

/**
 * The department and region of a page's directories, joined to the page's
 * rows as plain columns: a subquery per directory built a JSON object of
 * them and planned the region as a scan of the whole table for each
 * directory, and Node then parsed the object.
 */
const PAGE_JOINS = (alias: string) => `join department page_d on page_d.id = ${alias}.department_id join region page_r on page_r.code = page_d.region_code`;

/** A json column as the driver returns it (parsed, or its text). */
const parsedJson = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** A row of resource_directory as MikroORM maps it (column names to properties, timestamps to dates), without making an entity of it; no staleness. */
function plainDirectoryView(em: EntityManager, row: Record<string, unknown>): DirectoryView {
  const data = em.getDriver().mapResult(row, em.getMetadata().get(ResourceDirectory.name)) as Record<string, unknown>;
  return { ...data, department: { id: Number(data.department) } } as DirectoryView;
}

/**
 * The rows of a catalogue page (with PAGE_COLUMNS) as views with their
 * staleness, department and active mounts; directories of one department
 * share its row.
 */
function pageViews(em: EntityManager, rows: Record<string, unknown>[]): DirectoryView[] {
  const departments = new Map<number, DepartmentRow>();
  return rows.map(
    ({
      page_stale,
      page_stale_until,
      page_department_credit_code,
      page_department_name,
      page_region_code,
      page_region_name,
      page_region_level,
      page_region_parent_code,
      page_mounts,
      ...row
    }) => {
      const view = plainDirectoryView(em, row);
      let department = departments.get(view.department.id);
      if (!department) {
        const regionCode = page_region_code as string;
        department = new DepartmentRow(
          view.department.id,
          page_department_credit_code as string,
          page_department_name as string,
          regionCode,
          new RegionRow(regionCode, page_region_name as string, page_region_level as RegionLevel, page_region_parent_code as string | null),
        );
        departments.set(view.department.id, department);
      }
      return {
        ...view,
        staleness: { stale: page_stale === true, until: page_stale_until == null ? null : Number(page_stale_until) },
        page: { department, activeMounts: parsedJson<Record<string, unknown>[]>(page_mounts) },
      };
    },
  );
}

export const directoryService = {
  /** Loads a directory named by id or code, locked for the rest of the transaction. */
  async requireForUpdate(em: EntityManager, ref: DirectoryRef): Promise<ResourceDirectory> {
    if ((ref.id == null) === (ref.code == null)) throw badInput('Name the directory by exactly one of "id" or "code".');
    const where = ref.id != null ? { id: ref.id } : { code: ref.code!.trim() };
    const directory = await em.findOne(ResourceDirectory, where, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!directory) throw noSuchDirectory(ref);
    return directory;
  },

  /** Like requireForUpdate, and the viewer must be allowed to write the directory's department. */
  async requireWritable(ctx: RequestContext, em: EntityManager, ref: DirectoryRef, what: string): Promise<ResourceDirectory> {
    const directory = await this.requireForUpdate(em, ref);
    const department = await em.findOneOrFail(Department, { id: directory.department.id });
    if (hiddenDraft(ctx, directory, department)) throw noSuchDirectory(ref);
    requireDepartmentWriter(ctx, department, `${what} directory ${directory.code}`);
    return directory;
  },

  /** Registers a draft directory for a department. */
  async register(ctx: RequestContext, input: NewDirectory): Promise<ResourceDirectory> {
    const code = checkCode(input.code);
    return mutate(ctx, 'registerDirectory', async (em, mutation) => {
      const department = await departmentService.requireByCreditCode(em, input.departmentCreditCode);
      requireDepartmentWriter(ctx, department, `register directories of ${department.name}`);
      if (await em.findOne(ResourceDirectory, { code })) throw conflict(`Directory code ${code} is already taken in the catalogue.`);
      const directory = em.create(ResourceDirectory, {
        code,
        name: input.name,
        department,
        resourceFormat: input.resourceFormat,
        shareType: input.shareType,
        updateCycle: input.updateCycle,
      });
      applyMetadata(directory, input);
      checkShareRules(directory);
      await em.flush();
      mutation.audit({ entityType: 'ResourceDirectory', entityId: directory.id, after: snapshot(directory, AUDITED) });
      return directory;
    });
  },

  /** Changes a directory's metadata; a withdrawn one is frozen, a published one keeps its code. */
  async update(ctx: RequestContext, input: UpdateDirectoryInput): Promise<ResourceDirectory> {
    return mutate(ctx, 'updateDirectory', async (em, mutation) => {
      const directory = await this.requireWritable(ctx, em, input, 'change');
      const before = snapshot(directory, AUDITED);
      if (directory.status === DirectoryStatus.WITHDRAWN) throw conflict(`Directory ${directory.code} is withdrawn; publish it again before changing it.`);
      if (input.newCode != null && input.newCode.trim() !== directory.code) {
        if (directory.status !== DirectoryStatus.DRAFT) throw conflict(`Directory ${directory.code} is published; its code can no longer change.`);
        const newCode = checkCode(input.newCode);
        if (await em.findOne(ResourceDirectory, { code: newCode })) throw conflict(`Directory code ${newCode} is already taken in the catalogue.`);
        directory.code = newCode;
      }
      applyMetadata(directory, input);
      checkShareRules(directory);
      if (directory.status === DirectoryStatus.PUBLISHED && directory.informationItems.length === 0) {
        throw badInput(`Directory ${directory.code} is published and must keep at least one information item.`);
      }
      await em.flush();
      mutation.audit({ entityType: 'ResourceDirectory', entityId: directory.id, before, after: snapshot(directory, AUDITED) });
      return directory;
    });
  },

  /** Draft (or withdrawn) -> published. Publishing needs at least one information item. */
  async publish(ctx: RequestContext, ref: DirectoryRef): Promise<ResourceDirectory> {
    return mutate(ctx, 'publishDirectory', async (em, mutation) => {
      const directory = await this.requireWritable(ctx, em, ref, 'publish');
      const before = snapshot(directory, AUDITED);
      if (directory.status === DirectoryStatus.PUBLISHED) throw conflict(`Directory ${directory.code} is already published.`);
      if (directory.informationItems.length === 0) {
        throw badInput(`Directory ${directory.code} cannot be published without information items (信息项); add at least one.`);
      }
      directory.status = DirectoryStatus.PUBLISHED;
      directory.publishedAt = new Date();
      directory.withdrawnAt = null;
      await em.flush();
      mutation.audit({ entityType: 'ResourceDirectory', entityId: directory.id, before, after: snapshot(directory, AUDITED) });
      return directory;
    });
  },

  /** Published -> withdrawn: the directory stops counting in every figure. */
  async withdraw(ctx: RequestContext, ref: DirectoryRef): Promise<ResourceDirectory> {
    return mutate(ctx, 'withdrawDirectory', async (em, mutation) => {
      const directory = await this.requireWritable(ctx, em, ref, 'withdraw');
      const before = snapshot(directory, AUDITED);
      if (directory.status !== DirectoryStatus.PUBLISHED) {
        throw conflict(
          `Directory ${directory.code} is ${directory.status === DirectoryStatus.DRAFT ? 'a draft' : 'already withdrawn'}; only a published directory can be withdrawn.`,
        );
      }
      directory.status = DirectoryStatus.WITHDRAWN;
      directory.withdrawnAt = new Date();
      await em.flush();
      mutation.audit({ entityType: 'ResourceDirectory', entityId: directory.id, before, after: snapshot(directory, AUDITED) });
      return directory;
    });
  },

  /**
   * A directory by code, as a catalogue page reads it (a plain view, not a
   * tracked entity: it is shown, never changed); one prepared statement.
   * Its `stale` flag is left to its loader, as for an entity.
   */
  async findByCode(ctx: RequestContext, code: string): Promise<DirectoryView | null> {
    const drafts = directoryFilterSql({ draftsRead: draftsReadBy(ctx.viewer) });
    const [row] = await executePrepared<Record<string, unknown>>(ctx.em, `select c.* from resource_directory c where c.code = ? and ${drafts.sql}`, [
      code.trim(),
      ...drafts.params,
    ]);
    return row ? plainDirectoryView(ctx.em, row) : null;
  },

  /**
   * A page of the catalogue, filtered; one statement, which also reads each
   * directory's stale flag, department, region and active mounts
   * (PAGE_COLUMNS): a page asking for them costs no statement of their
   * own (it took four). Read as plain objects (pageViews), not entities: a
   * page is shown, never changed, and turning its rows into tracked
   * entities (identity map, references, the change-tracking copy of every
   * information item) was a fifth of the Node CPU of a computed catalogue page.
   */
  async search(ctx: RequestContext, filter: Omit<DirectoryFilter, 'draftsRead'>, page: PageRequest): Promise<Page<DirectoryView>> {
    const where = directoryFilterSql({ ...filter, draftsRead: draftsReadBy(ctx.viewer) });
    const rows = await pagedRows(ctx.em, ResourceDirectory, 'resource_directory', page, where, (_em, row) => row, PAGE_COLUMNS('c'), PAGE_JOINS('c'));
    return toPage(pageViews(ctx.em, rows), page.first);
  },

  /**
   * Whether a directory read in a catalogue page (search) was stale, dating
   * the answer to when that changes with the clock alone, as staleFlags
   * does (db/clock-reads.ts); undefined for a directory read otherwise.
   */
  staleInPage(directory: DirectoryView): boolean | undefined {
    if (!directory.staleness) return undefined;
    if (directory.staleness.until !== null) dependsOnTheClock(directory.staleness.until);
    return directory.staleness.stale;
  },

  /** How many directories a catalogue search finds (all pages); one statement. */
  async count(ctx: RequestContext, filter: Omit<DirectoryFilter, 'draftsRead'>): Promise<number> {
    const where = directoryFilterSql({ ...filter, draftsRead: draftsReadBy(ctx.viewer) });
    const [row]: { n: number }[] = await ctx.em.execute(`select count(*)::int as n from resource_directory c where ${where.sql}`, where.params);
    return Number(row.n);
  },

  /** Pages of directories of many departments or regions (and every region below) at once, one statement. */
  async directoriesOfUnits(
    em: EntityManager,
    kind: UnitKind,
    units: readonly string[],
    page: PageRequest,
    filter: DirectoryFilter,
  ): Promise<UnitRow<ResourceDirectory>[]> {
    return unitPagedRows(em, ResourceDirectory, 'resource_directory', kind, units, page, directoryFilterSql(filter));
  },

  /** How many directories match `filter` in each of many departments or regions, one statement. */
  async countOfUnits(em: EntityManager, kind: UnitKind, units: readonly string[], filter: DirectoryFilter): Promise<Map<string, number>> {
    return unitCounts(em, 'resource_directory', kind, units, directoryFilterSql(filter));
  },

  /**
   * Which of these directories hold stale data, one statement. The flags hold
   * until the first of them turns stale by the clock alone, which is what an
   * answer showing them is dated to (db/clock-reads.ts).
   */
  async staleFlags(em: EntityManager, ids: readonly number[]): Promise<{ id: number; stale: boolean }[]> {
    // Epoch milliseconds, not a timestamp: its text would depend on the server's DateStyle.
    const rows: { id: number; stale: boolean; turns_stale_at: number | null }[] = await em.execute(
      `${CLOCK_ACCOUNTED_FOR} select c.id, ${staleSql('c')} as stale, (extract(epoch from ${turnsStaleAtSql('c')}) * 1000)::float8 as turns_stale_at from resource_directory c where c.id in (?)`,
      [[...ids]],
    );
    for (const row of rows) if (row.turns_stale_at != null) dependsOnTheClock(Number(row.turns_stale_at));
    return rows.map(({ id, stale }) => ({ id, stale }));
  },

  /** Directories by id, for loaders (one statement per batch). */
  async byIds(em: EntityManager, ids: readonly number[]): Promise<ResourceDirectory[]> {
    return em.find(ResourceDirectory, { id: { $in: [...ids] } });
  },
};

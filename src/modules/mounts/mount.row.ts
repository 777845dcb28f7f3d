import type { EntityManager } from '@mikro-orm/postgresql';
import type { MountKind } from './mount.entity';

/**
 * A mount as reads show it: the columns of its row, read with one statement
 * and never made into a tracked entity. The GraphQL Mount type's resolvers
 * read these properties only, which the entity has as well (its
 * `directoryId`), so a mutation may return the entity it changed.
 */
export class MountRow {
  constructor(
    readonly id: number,
    readonly directoryId: number,
    readonly kind: MountKind,
    readonly locator: string,
    readonly recordCount: number,
    readonly hosted: boolean,
    readonly datasetVersion: number,
    readonly lastRefreshedAt: Date,
    readonly active: boolean,
    readonly mountedAt: Date,
    readonly unmountedAt: Date | null,
    /** Credit code of the directory's department, which decides who reads the locator (canReadLocatorsOf). */
    readonly providerCreditCode: string,
  ) {}
}

/** A mount row as the ORM's connection returns it: timestamps as PostgreSQL's text (MikroORM parses them itself). */
interface MountColumns {
  id: number;
  directory_id: number;
  kind: MountKind;
  locator: string;
  /** bigint, as text. */
  record_count: string;
  hosted: boolean;
  dataset_version: number;
  last_refreshed_at: string;
  active: boolean;
  mounted_at: string;
  unmounted_at: string | null;
  provider_credit_code: string;
}

/** A mount row made into a MountRow; timestamps parsed as the entity's are (the platform's parseDate: to the millisecond). */
const mountRowOf = (parseDate: (text: string) => Date, r: MountColumns) =>
  new MountRow(
    r.id,
    r.directory_id,
    r.kind,
    r.locator,
    // As the entity maps it (BigIntType('number')); the SafeInt scalar refuses what is not exact.
    Number(r.record_count),
    r.hosted,
    r.dataset_version,
    parseDate(r.last_refreshed_at),
    r.active,
    parseDate(r.mounted_at),
    r.unmounted_at === null ? null : parseDate(r.unmounted_at),
    r.provider_credit_code,
  );

/** Mount rows of columns read elsewhere as MountColumns (a catalogue page reads its directories' active mounts so), parsed as the loader's. */
export function mountRowsOfColumns(em: EntityManager, rows: readonly Record<string, unknown>[]): MountRow[] {
  const platform = em.getPlatform();
  const parseDate = (text: string) => platform.parseDate(text) as Date;
  return rows.map((row) => mountRowOf(parseDate, row as unknown as MountColumns));
}

/** The columns of MountColumns, of mount `m` joined to its directory's department `provider`. */
const MOUNT_COLUMNS = `m.id, m.directory_id, m.kind, m.locator, m.record_count, m.hosted, m.dataset_version, m.last_refreshed_at, m.active, m.mounted_at, m.unmounted_at,
       provider.credit_code as provider_credit_code
  from mount m join resource_directory md on md.id = m.directory_id join department provider on provider.id = md.department_id`;

async function mountRowsWhere(em: EntityManager, where: string, params: unknown[]): Promise<MountRow[]> {
  const rows: MountColumns[] = await em.execute(`select ${MOUNT_COLUMNS} where ${where} order by m.id`, params);
  const platform = em.getPlatform();
  const parseDate = (text: string) => platform.parseDate(text) as Date;
  return rows.map((row) => mountRowOf(parseDate, row));
}

/** The mounts of many directories (only active ones unless `includeInactive`), oldest first, one statement. */
export function mountRowsOfDirectories(em: EntityManager, directoryIds: readonly number[], includeInactive: boolean): Promise<MountRow[]> {
  return mountRowsWhere(em, `m.directory_id in (?)${includeInactive ? '' : ' and m.active'}`, [[...directoryIds]]);
}

/** Mounts by id (`node(id:)`), active or not, one statement. */
export function mountRowsByIds(em: EntityManager, ids: readonly number[]): Promise<MountRow[]> {
  return mountRowsWhere(em, 'm.id in (?)', [[...ids]]);
}

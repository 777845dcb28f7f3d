import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, conflict, notFound } from '../../core/errors';
import { trimText } from '../../core/text';
import type { RequestContext } from '../../core/request-context';
import { toCount } from '../../core/numbers';
import { DirectoryStatus, ResourceDirectory } from '../catalogue/directory.entity';
import { directoryService, hiddenDraft, type DirectoryRef } from '../catalogue/directory.service';
import { Mount, MountKind } from './mount.entity';
import { Department } from '../departments/department.entity';
import { snapshot } from '../audit/audit';
import { mutate } from '../../core/unit-of-work';
import { requireDepartmentWriter } from '../../core/permissions';

/** Fields the audit trail compares before and after a change. */
const AUDITED = ['directory', 'kind', 'locator', 'recordCount', 'hosted', 'datasetVersion', 'lastRefreshedAt', 'active', 'unmountedAt'] as const;

export interface NewMount {
  directory: DirectoryRef;
  kind: MountKind;
  locator: string;
  /** Declared count of a mount whose data lives elsewhere; a hosted mount starts empty and counts its rows. */
  recordCount?: number | null;
  /** Rows held by Mulu (TABLE or FILE only), loaded with appendDatasetRows or the bulk route. */
  hosted?: boolean | null;
  /** When the data was last refreshed at the source; defaults to now. */
  refreshedAt?: Date | null;
}

export interface MountRefresh {
  mountId: number;
  recordCount: number;
  refreshedAt?: Date | null;
}

/** Clock skew tolerated between an upstream system and this server. */
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * The most records one mount may declare: a quadrillion (10^15), beyond any
 * real dataset and far below 2^53, so one count stays exact everywhere, and
 * 9,000 mounts at the ceiling still sum within PostgreSQL's bigint (a write
 * that would push a sum past it is refused as BAD_USER_INPUT, errors.ts).
 */
export const MAX_RECORD_COUNT = 1_000_000_000_000_000;

function checkRecordCount(recordCount: number): void {
  if (!Number.isSafeInteger(recordCount) || recordCount < 0) {
    throw badInput(`recordCount must be a whole number of 0 or more, got ${recordCount}.`, { field: 'recordCount' });
  }
  if (recordCount > MAX_RECORD_COUNT) {
    throw badInput(`recordCount ${recordCount} is more than one dataset can hold (at most ${MAX_RECORD_COUNT}, 10^15); check the figure.`, {
      field: 'recordCount',
    });
  }
}

function checkRefreshedAt(refreshedAt: Date | null | undefined, now: Date): Date {
  if (!refreshedAt) return now;
  if (Number.isNaN(refreshedAt.getTime())) throw badInput('The refresh time is not a valid date.');
  if (refreshedAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    throw badInput(`The refresh time ${refreshedAt.toISOString()} is in the future.`);
  }
  return refreshedAt;
}

/**
 * Brings the directory's mount summary (active mounts, data volume, latest
 * refresh) in line with its mounts, in the caller's transaction. Statistics
 * read only these columns (and the department figures they feed), so they
 * must never drift from the mounts.
 */
async function syncDirectorySummary(em: EntityManager, directory: ResourceDirectory): Promise<void> {
  await em.flush();
  const [summary] = await em.execute(
    `select count(*)::int as active, coalesce(sum(record_count), 0)::bigint as volume, max(last_refreshed_at) as last
       from mount where directory_id = ? and active`,
    [directory.id],
  );
  directory.activeMountCount = summary.active;
  directory.dataVolume = toCount(summary.volume);
  directory.lastRefreshedAt = summary.last ? new Date(summary.last) : null;
  await em.flush();
}

/** Loads a mount with its directory locked, so concurrent changes of one directory queue up; the viewer must be allowed to write it. */
async function requireMountForUpdate(
  ctx: RequestContext,
  em: EntityManager,
  mountId: number,
  what: string,
): Promise<{ mount: Mount; directory: ResourceDirectory }> {
  const mount = await em.findOne(Mount, { id: mountId });
  if (!mount) throw notFound('This mount does not exist.');
  const directory = await em.findOneOrFail(ResourceDirectory, { id: mount.directory.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  const department = await em.findOneOrFail(Department, { id: directory.department.id });
  if (hiddenDraft(ctx, directory, department)) throw notFound('This mount does not exist.');
  requireDepartmentWriter(ctx, department, `${what} datasets of directory ${directory.code}`);
  await em.refresh(mount);
  return { mount, directory };
}

export const mountService = {
  /** Attaches a dataset to a directory that is not withdrawn. */
  async mount(ctx: RequestContext, input: NewMount): Promise<Mount> {
    const hosted = input.hosted === true;
    if (hosted && input.kind === MountKind.API) throw badInput('An API mount cannot be hosted: its data lives behind the API. Host TABLE or FILE datasets.');
    if (hosted && input.recordCount)
      throw badInput(
        'A hosted mount starts empty and counts the rows it holds; omit recordCount and load the rows (appendDatasetRows or POST /mounts/{id}/rows).',
      );
    if (!hosted && input.recordCount == null) throw badInput('A mount whose data lives elsewhere needs its record count (recordCount).');
    const recordCount = hosted ? 0 : input.recordCount!;
    checkRecordCount(recordCount);
    const locator = trimText(input.locator);
    if (!locator) throw badInput('A mount needs a locator: where the data lives (table name, endpoint URL or file path).');
    const now = new Date();
    const refreshedAt = checkRefreshedAt(input.refreshedAt, now);
    return mutate(ctx, 'mountDataset', async (em, mutation) => {
      const directory = await directoryService.requireWritable(ctx, em, input.directory, 'mount datasets on');
      if (directory.status === DirectoryStatus.WITHDRAWN) throw conflict(`Directory ${directory.code} is withdrawn; data cannot be mounted on it.`);
      if (hosted) {
        const other = await em.findOne(Mount, { directory, hosted: true, active: true });
        if (other) throw conflict(`Directory ${directory.code} already has a hosted dataset (mount ${other.locator}); load rows into it, or unmount it first.`);
      }
      const mount = em.create(Mount, { directory, kind: input.kind, locator, recordCount, hosted, lastRefreshedAt: refreshedAt, mountedAt: now });
      await syncDirectorySummary(em, directory);
      mutation.audit({ entityType: 'Mount', entityId: mount.id, after: snapshot(mount, AUDITED) });
      return mount;
    });
  },

  /** Records a refresh of an active mount: its new record count and time. */
  async refresh(ctx: RequestContext, input: MountRefresh): Promise<Mount> {
    checkRecordCount(input.recordCount);
    const refreshedAt = checkRefreshedAt(input.refreshedAt, new Date());
    return mutate(ctx, 'refreshMount', async (em, mutation) => {
      const { mount, directory } = await requireMountForUpdate(ctx, em, input.mountId, 'refresh');
      const before = snapshot(mount, AUDITED);
      if (!mount.active) throw conflict('This mount was unmounted; mount the dataset again instead of refreshing it.');
      if (mount.hosted)
        throw conflict(
          'This mount is hosted: its record count is the number of rows it holds. Load rows (appendDatasetRows, replaceDatasetRows or POST /mounts/{id}/rows) instead of declaring a count.',
        );
      mount.recordCount = input.recordCount;
      mount.lastRefreshedAt = refreshedAt;
      await syncDirectorySummary(em, directory);
      mutation.audit({ entityType: 'Mount', entityId: mount.id, before, after: snapshot(mount, AUDITED) });
      return mount;
    });
  },

  /** Detaches a dataset; the mount is kept, inactive, as history. */
  async unmount(ctx: RequestContext, mountId: number): Promise<Mount> {
    return mutate(ctx, 'unmountDataset', async (em, mutation) => {
      const { mount, directory } = await requireMountForUpdate(ctx, em, mountId, 'unmount');
      const before = snapshot(mount, AUDITED);
      if (!mount.active) throw conflict('This mount is already unmounted.');
      mount.active = false;
      mount.unmountedAt = new Date();
      await syncDirectorySummary(em, directory);
      mutation.audit({ entityType: 'Mount', entityId: mount.id, before, after: snapshot(mount, AUDITED) });
      return mount;
    });
  },

  /** Brings a directory's mount summary and its department's figures in line with its mounts, in the caller's transaction (dataset loads). */
  syncDirectorySummary,
};

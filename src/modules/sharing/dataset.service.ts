import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Knex } from '@mikro-orm/knex';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { badInput, conflict, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { mutate } from '../../core/unit-of-work';
import { requireDepartmentWriter, requireViewer } from '../../core/permissions';
import { DirectoryStatus, ResourceDirectory } from '../catalogue/directory.entity';
import { hiddenDraft } from '../catalogue/directory.service';
import { Department } from '../departments/department.entity';
import { Mount, MountKind } from '../mounts/mount.entity';
import { mountService } from '../mounts/mount.service';
import { DatasetLoad, LoadMode, SharingRoute, type RowError } from './dataset.entity';
import { MAX_REPORTED_ERRORS, RowChecker } from './row-check';
import { liftStatementTimeout } from '../../db/statement-timeout';

/** Rows one appendDatasetRows or replaceDatasetRows call may carry; more go through POST /mounts/{id}/rows. */
export const MAX_GRAPHQL_ROWS = 10_000;

/** Rows one bulk load may carry (the dataset size Mulu is designed for). */
export const MAX_BULK_ROWS = 10_000_000;

/** First key of the advisory lock that queues the loads of one mount (the second is the mount id). */
const LOAD_LOCK = 13_013;

/** Bytes gathered before a write to the COPY stream. */
const COPY_CHUNK = 256 * 1024;

/**
 * One row of a load as it arrives: its number (for errors) and its values by
 * item name, or the cells of a file record in the order of its checked
 * header (RowChecker.checkHeader), or why it could not be read.
 */
export type SourceRow = { row: number; values: Record<string, unknown> } | { row: number; cells: readonly string[] } | { row: number; unreadable: string };

export interface LoadInput {
  mountId: number;
  mode: LoadMode;
  route: SharingRoute;
  idempotencyKey?: string | null;
  /** Store the good rows and report the bad ones, instead of storing nothing when any row is bad. */
  acceptPartial?: boolean | null;
  /** Called once the mount is known to be loadable, before any row is read: checks a file's columns. */
  checkColumns?: (checker: RowChecker) => void;
  /**
   * The SHA-256 of the body as it was sent, once decoded (a retry may be compressed anew), for telling
   * a retry from another load under a used idempotency key; asked once the rows were read, or
   * instead of reading them. Without it, rows
   * given as a list (GraphQL) are hashed as their JSON (as sent: key order included).
   */
  bodyDigest?: () => Promise<string>;
  /** The rows, one by one or in batches (a parser yields the rows of a chunk together). */
  rows: Iterable<SourceRow> | AsyncIterable<SourceRow | readonly SourceRow[]>;
}

export interface LoadReport {
  load: DatasetLoad;
  mount: Mount;
  /** True when the idempotency key named an earlier load: nothing changed, its report is returned. */
  replayed: boolean;
}

function checkKey(key: string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const trimmed = key.trim();
  if (!trimmed || trimmed.length > 200) throw badInput('An idempotency key is 1 to 200 characters.');
  return trimmed;
}

/** COPY text format: backslash is its escape character (JSON text holds no raw tab or newline). */
const copyText = (json: string) => (json.includes('\\') ? json.replace(/\\/g, '\\\\') : json);

/** The pg connection of the current transaction (the knex transaction client hands out its bound connection). */
export async function transactionConnection(em: EntityManager): Promise<PoolClient> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  if (!trx) throw new Error('transactionConnection needs a transaction');
  return (await (trx as unknown as { client: { acquireConnection(): Promise<PoolClient> } }).client.acquireConnection()) as PoolClient;
}

/**
 * Checks a hosted mount can take rows from this caller, with the rules of
 * the catalogue: the directory's department's steward or an administrator,
 * an active hosted TABLE or FILE mount, a published directory with items.
 */
async function requireLoadable(ctx: RequestContext, em: EntityManager, mountId: number): Promise<{ mount: Mount; directory: ResourceDirectory }> {
  const mount = await em.findOne(Mount, { id: mountId });
  if (!mount) throw notFound('This mount does not exist.');
  const directory = await em.findOneOrFail(ResourceDirectory, { id: mount.directory.id });
  const department = await em.findOneOrFail(Department, { id: directory.department.id });
  // A mount on another department's draft is not there for this caller (hiddenDraft).
  if (hiddenDraft(ctx, directory, department)) throw notFound('This mount does not exist.');
  requireDepartmentWriter(ctx, department, `load rows into datasets of directory ${directory.code}`);
  if (!mount.active) throw conflict('This mount was unmounted; its dataset takes no rows. Mount the dataset again (hosted: true).');
  if (!mount.hosted || mount.kind === MountKind.API) {
    throw conflict(
      `This ${mount.kind} mount is not hosted: its data lives at ${mount.locator} and its record count is declared (refreshMount). Mount a hosted TABLE or FILE dataset to load rows into Mulu.`,
    );
  }
  if (directory.status !== DirectoryStatus.PUBLISHED) {
    throw conflict(
      `Directory ${directory.code} is ${directory.status === DirectoryStatus.DRAFT ? 'a draft' : 'withdrawn'}; rows are loaded only into datasets of published directories.`,
    );
  }
  if (directory.informationItems.length === 0) throw conflict(`Directory ${directory.code} has no information items; rows are checked against them.`);
  return { mount, directory };
}

/**
 * Writes checked rows to COPY, gathering them in chunks and waiting when the
 * connection is busy, so memory stays flat whatever the size of the load.
 */
class RowCopier {
  private chunk: string[] = [];
  private bytes = 0;
  private failure: Error | null = null;
  readonly stream: ReturnType<typeof copyFrom>;

  constructor(
    connection: PoolClient,
    private readonly prefix: string,
  ) {
    this.stream = connection.query(copyFrom('copy dataset_row (mount_id, version, row_no, data) from stdin'));
    this.stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }

  /** Adds a row; returns a promise only when the chunk was written (wait for it), so most rows cost no await. */
  add(rowNo: number, json: string): Promise<void> | null {
    const line = `${this.prefix}${rowNo}\t${copyText(json)}\n`;
    this.chunk.push(line);
    this.bytes += line.length;
    return this.bytes >= COPY_CHUNK ? this.flush() : null;
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.chunk.length) return;
    const ok = this.stream.write(this.chunk.join(''));
    this.chunk = [];
    this.bytes = 0;
    if (!ok) await this.drained();
  }

  /** Waits for the stream to drain or fail (a failure is thrown by the next flush), removing both listeners either way. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
    });
  }

  /**
   * Ends the COPY with a failure (CopyFail), so the connection leaves COPY
   * mode and the transaction can roll back. A COPY PostgreSQL already failed
   * (its error is this.failure) is over: nothing is sent. Destroyed, a COPY
   * refused before it began (a read-only database: 25006) waited for the
   * CopyInResponse that never comes, and the load held its request, its
   * transaction and a pooled connection for good.
   */
  async abort(error: unknown): Promise<void> {
    if (this.stream.destroyed || this.failure) return;
    const closed = once(this.stream, 'close').catch(() => undefined);
    this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await closed;
  }

  async end(): Promise<void> {
    await this.flush();
    const done = once(this.stream, 'finish');
    this.stream.end();
    await Promise.race([done, once(this.stream, 'error').then(([error]) => Promise.reject(error instanceof Error ? error : new Error(String(error))))]);
    if (this.failure) throw this.failure;
  }
}

/**
 * Loads of hosted datasets (共享数据的装载). A load is one transaction:
 * rows are checked against the directory's information items and copied into
 * dataset_row, the mount's record count becomes the rows it holds, the
 * directory's data volume and every figure above it follow, and the load is
 * recorded under its idempotency key. Loads of one mount queue on an
 * advisory lock, so versions never interleave; readers see the rows that
 * were committed before them (a replacement becomes visible at its commit).
 */
export const datasetService = {
  async load(ctx: RequestContext, input: LoadInput): Promise<LoadReport> {
    const viewer = requireViewer(ctx);
    const key = checkKey(input.idempotencyKey);
    const requestDigest = async (): Promise<string | null> => {
      const body = input.bodyDigest ? await input.bodyDigest() : Array.isArray(input.rows) ? JSON.stringify(input.rows) : null;
      return body === null
        ? null
        : createHash('sha256')
            .update(`${input.acceptPartial ? 'partial' : 'whole'}\n${body}`)
            .digest('hex');
    };
    const usedKey = (earlier: DatasetLoad) =>
      conflict(
        `The idempotency key "${key}" already named another load of this mount (version ${earlier.version}, ${earlier.mode.toLowerCase()} through ${earlier.route === SharingRoute.GRAPHQL ? 'GraphQL' : 'POST /mounts/{id}/rows'}, ${earlier.createdAt.toISOString()}); a retry sends the same rows the same way. Use a new key for a new load. Nothing was stored.`,
      );
    const report = await mutate(
      ctx,
      input.mode === LoadMode.REPLACE ? 'replaceDatasetRows' : 'appendDatasetRows',
      async (em, mutation) => {
        // The rows arrive through one COPY for as long as the upload takes (the body-rate limit bounds a slow sender).
        await liftStatementTimeout(em);
        await em.execute(`select pg_advisory_xact_lock(?, ?)`, [LOAD_LOCK, input.mountId]);
        if (key) {
          const earlier = await em.findOne(DatasetLoad, { mountId: input.mountId, idempotencyKey: key });
          if (earlier) {
            // The load happened (the mount may have changed since: its report is still the answer), but only for those who may load.
            const mount = await em.findOneOrFail(Mount, { id: input.mountId });
            const directory = await em.findOneOrFail(ResourceDirectory, { id: mount.directory.id });
            requireDepartmentWriter(
              ctx,
              await em.findOneOrFail(Department, { id: directory.department.id }),
              `load rows into datasets of directory ${directory.code}`,
            );
            // A retry asks the same; another load under a used key is refused rather than answered with the first one's result.
            // Its rows are compared once this transaction has ended (below): hashing the rest of an upload takes as long as
            // the upload, and the mount's queue and a pooled connection are not held for it.
            if (earlier.mode !== input.mode || earlier.route !== input.route) throw usedKey(earlier);
            return { load: earlier, mount, replayed: true };
          }
        }
        const { mount, directory } = await requireLoadable(ctx, em, input.mountId);
        const checker = new RowChecker(directory.informationItems);
        input.checkColumns?.(checker);

        const appendTo = input.mode === LoadMode.APPEND && mount.datasetVersion > 0;
        const version = appendTo ? mount.datasetVersion : mount.datasetVersion + 1;
        let rowNo = appendTo ? mount.recordCount : 0;
        const errors: RowError[] = [];
        let rejected = 0;
        let seen = 0;
        const copier = new RowCopier(await transactionConnection(em), `${mount.id}\t${version}\t`);
        try {
          const limit = input.route === SharingRoute.GRAPHQL ? MAX_GRAPHQL_ROWS : MAX_BULK_ROWS;
          for await (const arrived of input.rows) {
            const batch: readonly SourceRow[] = Array.isArray(arrived) ? arrived : [arrived as SourceRow];
            for (const source of batch) {
              if (++seen > limit) {
                throw badInput(
                  `A load carries at most ${limit.toLocaleString('en')} rows${input.route === SharingRoute.GRAPHQL ? '; send more through POST /mounts/{id}/rows' : ''}. Nothing was stored.`,
                );
              }
              const json =
                'cells' in source
                  ? checker.checkCells(source.cells, source.row, errors)
                  : 'values' in source
                    ? checker.check(source.values, source.row, errors)
                    : null;
              if ('unreadable' in source && errors.length < MAX_REPORTED_ERRORS) errors.push({ row: source.row, column: null, reason: source.unreadable });
              if (json === null) {
                rejected++;
                continue;
              }
              // Once a row failed and the load is all-or-nothing, the rest is only checked.
              if (rejected === 0 || input.acceptPartial) {
                const full = copier.add(++rowNo, json);
                if (full) await full;
              }
            }
          }
          await copier.end();
        } catch (error) {
          await copier.abort(error);
          throw error;
        }
        if (rejected > 0 && !input.acceptPartial) {
          throw badInput(
            `${rejected} row(s) have errors; nothing was stored. Each error names its row, column and reason${rejected > errors.length ? ` (the first ${errors.length} are listed)` : ''}; correct them, or load with acceptPartial to store the good rows.`,
            {
              rowErrors: errors,
              rowsWithErrors: rejected,
            },
          );
        }
        if (seen === 0 && input.mode === LoadMode.APPEND) throw badInput('The load holds no rows.');

        // The directory next, as every mount change locks it; an unmount that committed meanwhile is seen here.
        await em.findOneOrFail(ResourceDirectory, { id: directory.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        await em.refresh(mount);
        if (!mount.active) throw conflict('This mount was unmounted while the rows were loading; nothing was stored.');
        const before = { recordCount: mount.recordCount, datasetVersion: mount.datasetVersion };
        if (version !== mount.datasetVersion && mount.datasetVersion > 0) {
          // The old version's rows: readers that started before this commit still see them (MVCC).
          await em.execute(`delete from dataset_row where mount_id = ? and version = ?`, [mount.id, mount.datasetVersion]);
        }
        mount.recordCount = rowNo;
        mount.datasetVersion = version;
        mount.lastRefreshedAt = new Date();
        const load = em.create(DatasetLoad, {
          mountId: mount.id,
          version,
          mode: input.mode,
          route: input.route,
          idempotencyKey: key,
          requestDigest: key ? await requestDigest() : null,
          rowsLoaded: seen - rejected,
          rowsRejected: rejected,
          recordCount: rowNo,
          rejected: errors,
          actorKind: viewer.kind,
          actorId: viewer.id,
        });
        await mountService.syncDirectorySummary(em, directory);
        mutation.audit({
          entityType: 'Mount',
          entityId: mount.id,
          before,
          after: {
            recordCount: mount.recordCount,
            datasetVersion: mount.datasetVersion,
            rowsLoaded: load.rowsLoaded,
            rowsRejected: rejected,
            route: input.route,
            idempotencyKey: key,
          },
        });
        await em.flush();
        return { load, mount, replayed: false };
      },
      // An upload's rows are read as they arrive: they cannot be read a second time, so its load is not run again
      // after a collision. Rows sent through GraphQL are in memory: the load runs again from them as sent.
      { once: !Array.isArray(input.rows) },
    );
    // A load is never changed once stored, so its digest is as good after the transaction as in it.
    if (report.replayed && report.load.requestDigest != null && report.load.requestDigest !== (await requestDigest())) throw usedKey(report.load);
    return report;
  },

  async loadsByIds(em: EntityManager, ids: readonly number[]): Promise<DatasetLoad[]> {
    return em.find(DatasetLoad, { id: { $in: [...ids] } });
  },
};

import { Arg, Ctx, Extensions, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf } from '../../graphql/global-id';
import { NEVER_CACHED } from '../../graphql/response-cache';
import type { DirectoryView } from '../catalogue/directory.service';
import { ResourceDirectoryType } from '../catalogue/directory.types';
import { DepartmentType } from '../departments/department.types';
import type { Mount } from '../mounts/mount.entity';
import { MountType } from '../mounts/mount.types';
import { RegionType } from '../regions/region.types';
import { LoadMode, SharingRoute } from './dataset.entity';
import { datasetService, type LoadReport } from './dataset.service';
import { deliveryService, MAX_ROW_FILTERS, MAX_ROWS_PAGE, type RowPage } from './delivery.service';
import { DatasetLoadType, DatasetRowConnection, DatasetRowFilter, DatasetRowsInput, UsageSide, UsageStatsType } from './sharing.types';
import { EMPTY_USAGE_FIGURES } from './usage.service';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

/** A load as GraphQL returns it: the load, whether it was a replay, and the mount. */
class LoadResult extends DatasetLoadType {
  replayed!: boolean;
  mount!: Mount;
}

function toResult(report: LoadReport): LoadResult {
  return Object.assign(new LoadResult(), report.load, { replayed: report.replayed, mount: report.mount });
}

const rows = (input: DatasetRowsInput, mode: LoadMode) => ({
  mountId: numericIdOf(input.mountId, 'Mount'),
  mode,
  route: SharingRoute.GRAPHQL,
  idempotencyKey: input.idempotencyKey,
  acceptPartial: input.acceptPartial,
  rows: input.rows.map((values, i) => ({ row: i + 1, values })),
});

@Resolver(() => DatasetLoadType)
export class DatasetLoadResolver {
  @Mutation(() => DatasetLoadType, {
    nullable: true,
    description:
      "Adds rows to a hosted dataset (TABLE or FILE mount held by Mulu). Every row is checked against the directory's information items; nothing is stored when any row is bad (BAD_USER_INPUT with rowErrors: row, column, reason) unless acceptPartial. The mount's record count becomes the rows it holds.",
  })
  appendDatasetRows(@Arg('input', () => DatasetRowsInput, { description: 'The rows.' }) input: DatasetRowsInput, @Ctx() ctx: MuluContext) {
    return datasetService.load(ctx, rows(input, LoadMode.APPEND)).then(toResult);
  }

  @Mutation(() => DatasetLoadType, {
    nullable: true,
    description: 'Loads a new version of a hosted dataset that replaces the current one atomically: readers see the old rows until the new ones commit.',
  })
  replaceDatasetRows(@Arg('input', () => DatasetRowsInput, { description: 'The rows of the new version.' }) input: DatasetRowsInput, @Ctx() ctx: MuluContext) {
    return datasetService.load(ctx, rows(input, LoadMode.REPLACE)).then(toResult);
  }

  @FieldResolver(() => Boolean, { description: 'True when the idempotency key named an earlier load: nothing changed, and this is its result.' })
  replayed(@Root() result: LoadResult): boolean {
    return result.replayed;
  }

  @FieldResolver(() => MountType, { description: 'The mount, after the load.' })
  mount(@Root() result: LoadResult): Mount {
    return result.mount;
  }
}

/** How many rows a page holds when `first` is not given. */
export const DEFAULT_ROWS_PAGE = 100;

/**
 * A page of rows as `ResourceDirectory.rows` answers it, for the resolver and the direct path (row-page.direct.ts) alike.
 * The rows come ready from PostgreSQL (delivery.service.ts); an edge writes its cursor only when it is asked for.
 */
export function rowConnection(page: RowPage): DatasetRowConnection {
  const edges = page.edges;
  return {
    edges,
    version: page.version,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.afterRow > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

@Resolver(() => ResourceDirectoryType)
export class DirectorySharingResolver {
  @FieldResolver(() => DatasetRowConnection, {
    nullable: true,
    description:
      "Rows of the directory's hosted dataset, in row order, for those it is shared with: a department with a live granted subscription (only the items its grant names), the provider's stewards and administrators. Anyone else gets FORBIDDEN, with how to request access. Each page is logged and counted as one delivery (usageStats).",
  })
  // Each page is a delivery to log, and whether a grant is live depends on the date: never answered from the cache.
  @Extensions(NEVER_CACHED)
  // Arguments one by one, not an @ArgsType class: type-graphql runs class-validator (and requires it again) on every object argument,
  // so a page without filters, whose first and after are scalars, is not validated; a filter list is, item by item.
  async rows(
    @Root() directory: DirectoryView,
    @Arg('first', () => Int, { nullable: true, description: `How many rows (1 to ${MAX_ROWS_PAGE}, default ${DEFAULT_ROWS_PAGE}).` })
    first: number | null | undefined,
    @Arg('after', () => String, { nullable: true, description: 'Cursor after which the page starts.' }) after: string | null | undefined,
    @Arg('filter', () => [DatasetRowFilter], { nullable: true, description: `Conditions every row must meet (all of them; at most ${MAX_ROW_FILTERS}).` })
    filter: DatasetRowFilter[] | null | undefined,
    @Ctx() ctx: MuluContext,
  ): Promise<DatasetRowConnection> {
    return rowConnection(await deliveryService.page(ctx, { id: directory.id }, { first: first ?? DEFAULT_ROWS_PAGE, after, filters: filter }));
  }

  @FieldResolver(() => UsageStatsType, {
    description: "Use of this directory's hosted data by other departments (被使用): deliveries, rows, receiving departments.",
  })
  async usageStats(@Root() directory: DirectoryView, @Ctx() ctx: MuluContext): Promise<UsageStatsType> {
    return new UsageStatsType(await ctx.loaders.directoryUsage.load(directory.id));
  }
}

const sideOf = (side: UsageSide) => (side === UsageSide.PROVIDER ? 'provided' : 'used');

@Resolver(() => DepartmentType)
export class DepartmentUsageResolver {
  @FieldResolver(() => UsageStatsType, {
    description: "Use of hosted data: as PROVIDER its data used by other departments (资源被使用), as CONSUMER others' data it used (资源使用).",
  })
  usageStats(
    @Root() department: DepartmentRow,
    @Arg('side', () => UsageSide, { defaultValue: UsageSide.PROVIDER, description: 'Provider or consumer side.' }) side: UsageSide,
    @Ctx() ctx: MuluContext,
  ): UsageStatsType | Promise<UsageStatsType> {
    return ctx.loaders.figuresOfDepartment.read(department, (figures) => new UsageStatsType((figures.usage ?? EMPTY_USAGE_FIGURES)[sideOf(side)]));
  }
}

@Resolver(() => RegionType)
export class RegionUsageResolver {
  @FieldResolver(() => UsageStatsType, {
    description: 'Use of hosted data summed over every department in this region and all regions below it, as PROVIDER or CONSUMER.',
  })
  usageStats(
    @Root() region: RegionRow,
    @Arg('side', () => UsageSide, { defaultValue: UsageSide.PROVIDER, description: 'Provider or consumer side.' }) side: UsageSide,
    @Ctx() ctx: MuluContext,
  ): UsageStatsType | Promise<UsageStatsType> {
    return ctx.loaders.figuresOfRegion.read(region, (figures) => new UsageStatsType((figures.usage ?? EMPTY_USAGE_FIGURES)[sideOf(side)]));
  }
}

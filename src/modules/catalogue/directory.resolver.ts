import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { PAGE_LIMITS, pageRequest, toConnection, unitConnection } from '../../graphql/pagination';
import { RegionType } from '../regions/region.types';
import type { DepartmentRow } from '../departments/department.row';
import { DepartmentType } from '../departments/department.types';
import { ItemValueType, type InformationItem } from './directory.entity';
import { valueTypeOf } from './item-value-type';
import { directoryService, type DirectoryView } from './directory.service';
import {
  DepartmentDirectoryFilter,
  DirectoryConnection,
  DirectoryFilter,
  directoryListFilter,
  DirectoryTransitionInput,
  RegionDirectoryFilter,
  InformationItemType,
  RegisterDirectoryInput,
  ResourceDirectoryType,
  UpdateDirectoryInput,
  toDirectoryRef,
} from './directory.types';
import type { RegionRow } from '../regions/region.row';

@ArgsType()
class DirectorySearchArgs {
  @Field(() => DirectoryFilter, { nullable: true, description: 'Narrows the search.' })
  filter?: DirectoryFilter | null;

  @Field(() => Int, { nullable: true, description: `How many directories (1 to ${PAGE_LIMITS.directories}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@ArgsType()
class RegionDirectoriesArgs {
  @Field(() => RegionDirectoryFilter, { nullable: true, description: 'Narrows the list.' })
  filter?: RegionDirectoryFilter | null;

  @Field(() => Int, { nullable: true, description: `How many directories (1 to ${PAGE_LIMITS.directories}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

/** The drill-down behind a region's mount figures. */
@Resolver(() => RegionType)
export class RegionDirectoriesResolver {
  @FieldResolver(() => DirectoryConnection, {
    description:
      'Resource directories of every department in this region and in every region below it, in registration order: the entities behind its mount figures. `filter: { mounted: false }` lists the unmounted published directories (未挂载), `filter: { stale: true }` the stale ones; `totalCount` equals the figure.',
  })
  directories(@Root() region: RegionRow, @Args(() => RegionDirectoriesArgs) args: RegionDirectoriesArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    const loaders = { list: ctx.loaders.directoriesOfUnit, count: ctx.loaders.directoryCountOfUnit };
    return unitConnection(loaders, 'region', region.code, page, directoryListFilter(args.filter, ctx.viewer));
  }
}

@Resolver(() => ResourceDirectoryType)
export class DirectoryResolver {
  @Query(() => DirectoryConnection, { description: 'Searches the catalogue, in registration order.' })
  async directories(@Args(() => DirectorySearchArgs) args: DirectorySearchArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    const filter = args.filter ?? {};
    return toConnection(await directoryService.search(ctx, filter, page), page, () => directoryService.count(ctx, filter));
  }

  @Query(() => ResourceDirectoryType, { nullable: true, description: 'A directory by its code; null when there is none.' })
  directory(@Arg('code', { description: 'Directory code.' }) code: string, @Ctx() ctx: MuluContext): Promise<DirectoryView | null> {
    return directoryService.findByCode(ctx, code);
  }

  @Mutation(() => ResourceDirectoryType, { nullable: true, description: 'Registers a directory as a draft.' })
  registerDirectory(@Arg('input', () => RegisterDirectoryInput, { description: 'The directory.' }) input: RegisterDirectoryInput, @Ctx() ctx: MuluContext) {
    return directoryService.register(ctx, input);
  }

  @Mutation(() => ResourceDirectoryType, { nullable: true, description: "Changes a directory's metadata." })
  updateDirectory(@Arg('input', () => UpdateDirectoryInput, { description: 'The changes.' }) input: UpdateDirectoryInput, @Ctx() ctx: MuluContext) {
    return directoryService.update(ctx, { ...input, ...toDirectoryRef(input.directory) });
  }

  @Mutation(() => ResourceDirectoryType, { nullable: true, description: 'Publishes a draft or withdrawn directory; it needs at least one information item.' })
  publishDirectory(@Arg('input', () => DirectoryTransitionInput, { description: 'The directory.' }) input: DirectoryTransitionInput, @Ctx() ctx: MuluContext) {
    return directoryService.publish(ctx, toDirectoryRef(input.directory));
  }

  @Mutation(() => ResourceDirectoryType, { nullable: true, description: 'Withdraws a published directory; it stops counting in every figure.' })
  withdrawDirectory(@Arg('input', () => DirectoryTransitionInput, { description: 'The directory.' }) input: DirectoryTransitionInput, @Ctx() ctx: MuluContext) {
    return directoryService.withdraw(ctx, toDirectoryRef(input.directory));
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() directory: DirectoryView): string {
    return toGlobalId('ResourceDirectory', directory.id);
  }

  @FieldResolver(() => DepartmentType, { description: 'The providing department (提供方).' })
  department(@Root() directory: DirectoryView, @Ctx() ctx: MuluContext): DepartmentRow | Promise<DepartmentRow | null> {
    return directory.page?.department ?? ctx.loaders.departmentById.load(directory.department.id);
  }

  @FieldResolver(() => Boolean, { description: 'Published with at least one active mount (已挂载).' })
  mounted(@Root() directory: DirectoryView): boolean {
    return directory.status === 'PUBLISHED' && directory.activeMountCount > 0;
  }

  @FieldResolver(() => Boolean, { description: 'Mounted, but not refreshed within its update cycle (长期不更新).' })
  stale(@Root() directory: DirectoryView, @Ctx() ctx: MuluContext): boolean | Promise<boolean> {
    return directoryService.staleInPage(directory) ?? ctx.loaders.directoryIsStale.load(directory.id);
  }
}

@ArgsType()
class DepartmentDirectoriesArgs {
  @Field(() => Int, { nullable: true, description: `How many directories (1 to ${PAGE_LIMITS.directories}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;

  @Field(() => DepartmentDirectoryFilter, { nullable: true, description: 'Narrows the list.' })
  filter?: DepartmentDirectoryFilter | null;
}

/** Department.directories: the catalogue adds its list to the department type. */
@Resolver(() => DepartmentType)
export class DepartmentDirectoriesResolver {
  @FieldResolver(() => DirectoryConnection, {
    description:
      "The department's resource directories, in registration order; `filter: { mounted: false }` lists its unmounted published directories (未挂载), `filter: { stale: true }` its stale ones.",
  })
  directories(@Root() department: DepartmentRow, @Args(() => DepartmentDirectoriesArgs) args: DepartmentDirectoriesArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    const loaders = { list: ctx.loaders.directoriesOfUnit, count: ctx.loaders.directoryCountOfUnit };
    return unitConnection(loaders, 'department', department.id, page, directoryListFilter(args.filter, ctx.viewer));
  }
}

@Resolver(() => InformationItemType)
export class InformationItemResolver {
  @FieldResolver(() => ItemValueType, {
    description:
      'Value type rows must hold: as set, or inferred from dataType (字符型 STRING, 整数型 INTEGER, 数值型 DECIMAL, 日期型 DATE, 日期时间型 DATETIME, 布尔型 BOOLEAN; any other text STRING).',
  })
  valueType(@Root() item: InformationItem): ItemValueType {
    return valueTypeOf(item);
  }

  @FieldResolver(() => Boolean, { description: 'Whether every row loaded into a hosted dataset must hold a value.' })
  required(@Root() item: InformationItem): boolean {
    return item.required === true;
  }
}

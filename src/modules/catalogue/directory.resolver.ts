import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { PAGE_LIMITS, pageRequest, toConnection } from '../../graphql/pagination';
import type { Department } from '../departments/department.entity';
import { DepartmentType } from '../departments/department.types';
import { ResourceDirectory } from './directory.entity';
import { directoryService } from './directory.service';
import {
  DepartmentDirectoryFilter,
  DirectoryConnection,
  DirectoryFilter,
  DirectoryTransitionInput,
  RegisterDirectoryInput,
  ResourceDirectoryType,
  UpdateDirectoryInput,
  toDirectoryRef,
} from './directory.types';

@ArgsType()
class DirectorySearchArgs {
  @Field(() => DirectoryFilter, { nullable: true, description: 'Narrows the search.' })
  filter?: DirectoryFilter | null;

  @Field(() => Int, { nullable: true, description: `How many directories (1 to ${PAGE_LIMITS.directories}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@Resolver(() => ResourceDirectoryType)
export class DirectoryResolver {
  @Query(() => DirectoryConnection, { description: 'Searches the catalogue, in registration order.' })
  async directories(@Args(() => DirectorySearchArgs) args: DirectorySearchArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    return toConnection(await directoryService.search(ctx, args.filter ?? {}, page), page);
  }

  @Query(() => ResourceDirectoryType, { nullable: true, description: 'A directory by its code; null when there is none.' })
  directory(@Arg('code', { description: 'Directory code.' }) code: string, @Ctx() ctx: MuluContext): Promise<ResourceDirectory | null> {
    return directoryService.findByCode(ctx, code);
  }

  @Mutation(() => ResourceDirectoryType, { description: 'Registers a directory as a draft.' })
  registerDirectory(@Arg('input', () => RegisterDirectoryInput, { description: 'The directory.' }) input: RegisterDirectoryInput, @Ctx() ctx: MuluContext) {
    return directoryService.register(ctx, input);
  }

  @Mutation(() => ResourceDirectoryType, { description: "Changes a directory's metadata." })
  updateDirectory(@Arg('input', () => UpdateDirectoryInput, { description: 'The changes.' }) input: UpdateDirectoryInput, @Ctx() ctx: MuluContext) {
    return directoryService.update(ctx, { ...input, ...toDirectoryRef(input.directory) });
  }

  @Mutation(() => ResourceDirectoryType, { description: 'Publishes a draft or withdrawn directory; it needs at least one information item.' })
  publishDirectory(@Arg('input', () => DirectoryTransitionInput, { description: 'The directory.' }) input: DirectoryTransitionInput, @Ctx() ctx: MuluContext) {
    return directoryService.publish(ctx, toDirectoryRef(input.directory));
  }

  @Mutation(() => ResourceDirectoryType, { description: 'Withdraws a published directory; it stops counting in every figure.' })
  withdrawDirectory(@Arg('input', () => DirectoryTransitionInput, { description: 'The directory.' }) input: DirectoryTransitionInput, @Ctx() ctx: MuluContext) {
    return directoryService.withdraw(ctx, toDirectoryRef(input.directory));
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() directory: ResourceDirectory): string {
    return toGlobalId('ResourceDirectory', directory.id);
  }

  @FieldResolver(() => DepartmentType, { description: 'The providing department (提供方).' })
  async department(@Root() directory: ResourceDirectory, @Ctx() ctx: MuluContext): Promise<Department> {
    return (await ctx.loaders.departmentById.load(directory.department.id))!;
  }

  @FieldResolver(() => Boolean, { description: 'Published with at least one active mount (已挂载).' })
  mounted(@Root() directory: ResourceDirectory): boolean {
    return directory.status === 'PUBLISHED' && directory.activeMountCount > 0;
  }

  @FieldResolver(() => Boolean, { description: 'Mounted, but not refreshed within its update cycle (长期不更新).' })
  stale(@Root() directory: ResourceDirectory, @Ctx() ctx: MuluContext): Promise<boolean> {
    return ctx.loaders.directoryIsStale.load(directory.id);
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
  @FieldResolver(() => DirectoryConnection, { description: "The department's resource directories, in registration order." })
  async directories(@Root() department: Department, @Args(() => DepartmentDirectoriesArgs) args: DepartmentDirectoriesArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    const filter = { status: args.filter?.status ?? null, shareType: args.filter?.shareType ?? null, text: args.filter?.text ?? null, stale: args.filter?.stale ?? null };
    return toConnection(await ctx.loaders.directoriesOfDepartment.load({ parent: department.id, page, filter }), page);
  }
}

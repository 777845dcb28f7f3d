import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { PAGE_LIMITS, pageRequest, toConnection } from '../../graphql/pagination';
import type { Department } from '../departments/department.entity';
import { DepartmentType } from '../departments/department.types';
import type { Mount } from '../mounts/mount.entity';
import { MountType } from '../mounts/mount.types';
import { ResourceDirectory } from './directory.entity';
import { directoryService } from './directory.service';
import {
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

  @FieldResolver(() => [MountType], { description: 'Datasets mounted on the directory, oldest first.' })
  mounts(
    @Root() directory: ResourceDirectory,
    @Arg('includeInactive', () => Boolean, { defaultValue: false, description: 'Also list unmounted datasets (history).' }) includeInactive: boolean,
    @Ctx() ctx: MuluContext,
  ): Promise<Mount[]> {
    return ctx.loaders.mountsOfDirectory.load({ directoryId: directory.id, includeInactive });
  }
}

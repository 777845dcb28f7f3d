import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { PAGE_LIMITS, pageRequest, unitConnection } from '../../graphql/pagination';
import { DepartmentDirectoryFilter, DirectoryConnection, directoryListFilter } from '../catalogue/directory.types';
import type { Region } from '../regions/region.entity';
import { RegionType } from '../regions/region.types';
import { Department } from './department.entity';
import { departmentService } from './department.service';
import { CreateDepartmentInput, DepartmentType } from './department.types';

@ArgsType()
class DepartmentDirectoriesArgs {
  @Field(() => Int, { nullable: true, description: `How many directories (1 to ${PAGE_LIMITS.directories}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;

  @Field(() => DepartmentDirectoryFilter, { nullable: true, description: 'Narrows the list.' })
  filter?: DepartmentDirectoryFilter | null;
}

@Resolver(() => DepartmentType)
export class DepartmentResolver {
  @Query(() => DepartmentType, { nullable: true, description: 'A department by its unified social credit code; null when there is none.' })
  department(@Arg('creditCode', { description: '18-character credit code.' }) creditCode: string, @Ctx() ctx: MuluContext): Promise<Department | null> {
    return departmentService.findByCreditCode(ctx, creditCode);
  }

  @Mutation(() => DepartmentType, { nullable: true, description: 'Registers a department in a region.' })
  createDepartment(@Arg('input', () => CreateDepartmentInput, { description: 'The department.' }) input: CreateDepartmentInput, @Ctx() ctx: MuluContext): Promise<Department> {
    return departmentService.create(ctx, input);
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() department: Department): string {
    return toGlobalId('Department', department.id);
  }

  @FieldResolver(() => RegionType, { description: 'The region the department belongs to.' })
  async region(@Root() department: Department, @Ctx() ctx: MuluContext): Promise<Region> {
    return (await ctx.loaders.regionByCode.load(department.region.unwrap().code))!;
  }

  @FieldResolver(() => DirectoryConnection, {
    description: "The department's resource directories, in registration order; `filter: { mounted: false }` lists its unmounted published directories (未挂载), `filter: { stale: true }` its stale ones.",
  })
  directories(@Root() department: Department, @Args(() => DepartmentDirectoriesArgs) args: DepartmentDirectoriesArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.directories);
    const loaders = { list: ctx.loaders.directoriesOfUnit, count: ctx.loaders.directoryCountOfUnit };
    return unitConnection(loaders, 'department', department.id, page, directoryListFilter(args.filter));
  }
}

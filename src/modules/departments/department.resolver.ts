import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { PAGE_LIMITS, pageRequest, toConnection } from '../../graphql/pagination';
import { DepartmentConnection } from './department.connection';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from './department.row';
import { RegionType } from '../regions/region.types';
import { Department } from './department.entity';
import { departmentService } from './department.service';
import { CreateDepartmentInput, DepartmentType } from './department.types';

@Resolver(() => DepartmentType)
export class DepartmentResolver {
  @Query(() => DepartmentType, { nullable: true, description: 'A department by its unified social credit code; null when there is none.' })
  department(@Arg('creditCode', { description: '18-character credit code.' }) creditCode: string, @Ctx() ctx: MuluContext): Promise<Department | null> {
    return departmentService.findByCreditCode(ctx, creditCode);
  }

  @Mutation(() => DepartmentType, { nullable: true, description: 'Registers a department in a region.' })
  createDepartment(
    @Arg('input', () => CreateDepartmentInput, { description: 'The department.' }) input: CreateDepartmentInput,
    @Ctx() ctx: MuluContext,
  ): Promise<Department> {
    return departmentService.create(ctx, input);
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() department: DepartmentRow): string {
    return toGlobalId('Department', department.id);
  }

  @FieldResolver(() => RegionType, { description: 'The region the department belongs to.' })
  region(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): RegionRow | Promise<RegionRow | null> {
    return department.regionRow ?? ctx.loaders.regionByCode.load(department.regionCode);
  }
}

@ArgsType()
class DepartmentPageArgs {
  @Field(() => Int, { nullable: true, description: `How many departments (1 to ${PAGE_LIMITS.departments}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

/** Region.departments: the departments module adds its list to the region type. */
@Resolver(() => RegionType)
export class RegionDepartmentsResolver {
  @FieldResolver(() => DepartmentConnection, { description: 'Departments directly in this region (not in regions below), in registration order.' })
  async departments(@Root() region: RegionRow, @Args(() => DepartmentPageArgs) args: DepartmentPageArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, PAGE_LIMITS.departments);
    return toConnection(await ctx.loaders.departmentsOfRegion.load({ parent: region.code, page, filter: null }), page);
  }
}

import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { DepartmentType } from '../departments/department.types';
import { RegionType } from '../regions/region.types';
import { MountStatsType } from './stats.types';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

@Resolver(() => RegionType)
export class RegionStatsResolver {
  @FieldResolver(() => MountStatsType, { description: 'Mount figures of every department in this region and all regions below it.' })
  async mountStats(@Root() region: RegionRow, @Ctx() ctx: MuluContext): Promise<MountStatsType> {
    return new MountStatsType((await ctx.loaders.figuresOfRegion.of(region)).mount);
  }
}

@Resolver(() => DepartmentType)
export class DepartmentStatsResolver {
  @FieldResolver(() => MountStatsType, { description: "Mount figures of the department's published directories." })
  async mountStats(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): Promise<MountStatsType> {
    return new MountStatsType((await ctx.loaders.figuresOfDepartment.of(department)).mount);
  }
}

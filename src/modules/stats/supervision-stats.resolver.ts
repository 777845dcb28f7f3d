import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { DepartmentType } from '../departments/department.types';
import { RegionType } from '../regions/region.types';
import { SupervisionStatsType } from './supervision-stats.types';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

@Resolver(() => RegionType)
export class RegionSupervisionStatsResolver {
  @FieldResolver(() => SupervisionStatsType, { description: 'Supervision coverage of every department in this region and all regions below it.' })
  async supervisionStats(@Root() region: RegionRow, @Ctx() ctx: MuluContext): Promise<SupervisionStatsType> {
    return new SupervisionStatsType((await ctx.loaders.figuresOfRegion.of(region)).supervision);
  }
}

@Resolver(() => DepartmentType)
export class DepartmentSupervisionStatsResolver {
  @FieldResolver(() => SupervisionStatsType, { description: "Supervision coverage of the department's items." })
  async supervisionStats(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): Promise<SupervisionStatsType> {
    return new SupervisionStatsType((await ctx.loaders.figuresOfDepartment.of(department)).supervision);
  }
}

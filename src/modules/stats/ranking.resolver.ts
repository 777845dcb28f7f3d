import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { RegionType } from '../regions/region.types';
import { checkRankingRequest } from './ranking.service';
import { DepartmentRankingEntryType, RankingArgs, RegionRankingEntryType } from './ranking.types';
import type { RegionRow } from '../regions/region.row';

@Resolver(() => RegionType)
export class RegionRankingResolver {
  @FieldResolver(() => [DepartmentRankingEntryType], {
    description: 'The departments in this region and all regions below it, ranked by a rate (ties by name); with `below`, only those under a threshold.',
  })
  async departmentRanking(
    @Root() region: RegionRow,
    @Args(() => RankingArgs) args: RankingArgs,
    @Ctx() ctx: MuluContext,
  ): Promise<DepartmentRankingEntryType[]> {
    const request = checkRankingRequest({ metric: args.metric, order: args.order, first: args.first, skip: args.skip, below: args.below ?? null });
    return (await ctx.loaders.departmentRanking.load({ regionCode: region.code, request })).map((entry) => new DepartmentRankingEntryType(entry));
  }

  @FieldResolver(() => [RegionRankingEntryType], {
    description: 'The regions directly below this one, ranked by a rate over all their departments (ties by name); with `below`, only those under a threshold.',
  })
  async childRegionRanking(@Root() region: RegionRow, @Args(() => RankingArgs) args: RankingArgs, @Ctx() ctx: MuluContext): Promise<RegionRankingEntryType[]> {
    const request = checkRankingRequest({ metric: args.metric, order: args.order, first: args.first, skip: args.skip, below: args.below ?? null });
    return (await ctx.loaders.childRegionRanking.load({ regionCode: region.code, request })).map((entry) => new RegionRankingEntryType(entry));
  }
}

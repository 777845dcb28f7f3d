import { Args, Ctx, Extensions, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { readAhead } from '../../graphql/selection';
import { RegionType } from '../regions/region.types';
import { checkRankingRequest, type RankingRequest } from './ranking.service';
import { DepartmentRankingEntryType, RankingArgs, RegionRankingEntryType } from './ranking.types';
import type { RegionRow } from '../regions/region.row';

/** A ranking's arguments as its loader's key holds them, checked; the resolvers and their read-aheads make it alike. */
function rankingRequest(args: RankingArgs): RankingRequest {
  return checkRankingRequest({ metric: args.metric, order: args.order, first: args.first, skip: args.skip, below: args.below ?? null });
}

const ignore = () => undefined;

/* A region asked by its code starts its rankings at once, alongside its own row (selection.ts, readAheadAsked). */
const departmentRankingAhead = readAhead<MuluContext>((regionCode, args, ctx) => {
  ctx.loaders.departmentRanking.load({ regionCode, request: rankingRequest(args as unknown as RankingArgs) }).catch(ignore);
});
const childRegionRankingAhead = readAhead<MuluContext>((regionCode, args, ctx) => {
  ctx.loaders.childRegionRanking.load({ regionCode, request: rankingRequest(args as unknown as RankingArgs) }).catch(ignore);
});

@Resolver(() => RegionType)
export class RegionRankingResolver {
  @FieldResolver(() => [DepartmentRankingEntryType], {
    description: 'The departments in this region and all regions below it, ranked by a rate (ties by name); with `below`, only those under a threshold.',
  })
  @Extensions(departmentRankingAhead)
  async departmentRanking(
    @Root() region: RegionRow,
    @Args(() => RankingArgs) args: RankingArgs,
    @Ctx() ctx: MuluContext,
  ): Promise<DepartmentRankingEntryType[]> {
    return (await ctx.loaders.departmentRanking.load({ regionCode: region.code, request: rankingRequest(args) })).map(
      (entry) => new DepartmentRankingEntryType(entry),
    );
  }

  @FieldResolver(() => [RegionRankingEntryType], {
    description: 'The regions directly below this one, ranked by a rate over all their departments (ties by name); with `below`, only those under a threshold.',
  })
  @Extensions(childRegionRankingAhead)
  async childRegionRanking(@Root() region: RegionRow, @Args(() => RankingArgs) args: RankingArgs, @Ctx() ctx: MuluContext): Promise<RegionRankingEntryType[]> {
    return (await ctx.loaders.childRegionRanking.load({ regionCode: region.code, request: rankingRequest(args) })).map(
      (entry) => new RegionRankingEntryType(entry),
    );
  }
}

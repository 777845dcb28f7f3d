import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, Extensions, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { toGlobalId } from '../../graphql/global-id';
import { asksField, readAhead, readAheadAsked, type AskedField } from '../../graphql/selection';
import type { Region } from './region.entity';
import type { RegionRow } from './region.row';
import { regionService } from './region.service';
import { CreateRegionInput, RegionType } from './region.types';

/** A region's children, read with their own when the query asks for those too (one statement for both levels). */
function childrenOf(code: string, ctx: MuluContext, asked: AskedField): Promise<RegionRow[]> {
  return asksField(asked, 'children') ? ctx.loaders.childRegionsAndTheirs.load(code) : ctx.loaders.childRegions.load(code);
}

const childrenAhead = readAhead<MuluContext>((code, _args, ctx, asked) => {
  childrenOf(code, ctx, asked).catch(() => undefined);
});

@Resolver(() => RegionType)
export class RegionResolver {
  @Query(() => RegionType, { nullable: true, description: 'A region by its GB/T 2260 code; null when there is none.' })
  region(
    @Arg('code', { description: '6-digit code, e.g. 410505.' }) code: string,
    @Ctx() ctx: MuluContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<RegionRow | null> {
    const key = code.trim();
    // The region's children and rankings are keyed by its code: they are read alongside its row, not after it.
    readAheadAsked(info, key, ctx);
    return ctx.loaders.regionByCode.load(key);
  }

  @Mutation(() => RegionType, { nullable: true, description: 'Registers a region under the parent its code implies.' })
  createRegion(@Arg('input', () => CreateRegionInput, { description: 'The region.' }) input: CreateRegionInput, @Ctx() ctx: MuluContext): Promise<Region> {
    return regionService.create(ctx, input);
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() region: RegionRow): string {
    return toGlobalId('Region', region.code);
  }

  @FieldResolver(() => RegionType, { nullable: true, description: 'The region above; null for a province.' })
  parent(@Root() region: RegionRow, @Ctx() ctx: MuluContext): Promise<RegionRow | null> | null {
    return region.parentCode ? ctx.loaders.regionByCode.load(region.parentCode) : null;
  }

  @FieldResolver(() => [RegionType], { description: 'The regions directly below, by code.' })
  @Extensions(childrenAhead)
  children(@Root() region: RegionRow, @Ctx() ctx: MuluContext, @Info() info: GraphQLResolveInfo): RegionRow[] | Promise<RegionRow[]> {
    // Children asked with their own children (a dashboard's cities and districts) are read with them, one statement for
    // both levels, and each child row keeps its own: the next level is answered at once.
    const carried = ctx.loaders.childRegionsAndTheirs.carried(region);
    if (carried) return carried;
    return childrenOf(region.code, ctx, info);
  }
}

import { Field, Float, Int, ObjectType } from 'type-graphql';
import { percent, rate, type Count } from '../../core/numbers';
import { BigCount } from '../../graphql/scalars';
import type { MountCounts } from './mount-stats.service';

/*
 * The statistics types hold every value as a plain property, rates computed
 * once in the constructor, and use simple resolvers (graphql-js reads the
 * property): a province dashboard resolves some 8,000 of these fields, and a
 * getter or a wrapped resolver per field cost a measurable share of it.
 */
@ObjectType('MountStats', {
  simpleResolvers: true,
  description: 'Mount figures of a department or region (资源目录挂载情况). A region sums every department below it.',
})
export class MountStatsType {
  constructor(counts: MountCounts) {
    this.publishedDirectories = counts.publishedDirectories;
    this.mountedDirectories = counts.mountedDirectories;
    this.dataVolume = counts.dataVolume;
    this.staleDirectories = counts.staleDirectories;
    this.mountRate = rate(counts.mountedDirectories, counts.publishedDirectories);
    this.mountRatePercent = percent(counts.mountedDirectories, counts.publishedDirectories);
  }

  @Field(() => Int, { description: 'Published directories (已发布资源目录数).' })
  publishedDirectories: number;

  @Field(() => Int, { description: 'Published directories with at least one active mount (已挂载资源目录数).' })
  mountedDirectories: number;

  @Field(() => BigCount, { description: 'Records in the active mounts of the mounted directories (资源数据总量).' })
  dataVolume: Count;

  @Field(() => Int, { description: 'Mounted directories not refreshed within their update cycle.' })
  staleDirectories: number;

  @Field(() => Float, { nullable: true, description: 'Mount rate (资源挂载率) = mounted / published, in [0, 1]; null when nothing is published.' })
  mountRate: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Mount rate as a percentage rounded half-up to 2 decimals, as reports print it ("62.39"); null when nothing is published.',
  })
  mountRatePercent: string | null;
}

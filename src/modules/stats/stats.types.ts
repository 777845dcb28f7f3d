import { Field, Float, Int, ObjectType } from 'type-graphql';
import { percent, rate } from '../../graphql/rates';
import { SafeInt } from '../../graphql/scalars';
import type { MountCounts } from './mount-stats.service';

@ObjectType('MountStats', { description: 'Mount figures of a department or region (资源目录挂载情况). A region sums every department below it.' })
export class MountStatsType {
  constructor(counts: MountCounts) {
    Object.assign(this, counts);
  }

  @Field(() => Int, { description: 'Published directories (已发布资源目录数).' })
  publishedDirectories!: number;

  @Field(() => Int, { description: 'Published directories with at least one active mount (已挂载资源目录数).' })
  mountedDirectories!: number;

  @Field(() => SafeInt, { description: 'Records in the active mounts of the mounted directories (资源数据总量).' })
  dataVolume!: number;

  @Field(() => Int, { description: 'Mounted directories not refreshed within their update cycle.' })
  staleDirectories!: number;

  @Field(() => Float, { nullable: true, description: 'Mount rate (资源挂载率) = mounted / published, in [0, 1]; null when nothing is published.' })
  get mountRate(): number | null {
    return rate(this.mountedDirectories, this.publishedDirectories);
  }

  @Field(() => String, { nullable: true, description: 'Mount rate as a percentage rounded half-up to 2 decimals, as reports print it ("62.39"); null when nothing is published.' })
  get mountRatePercent(): string | null {
    return percent(this.mountedDirectories, this.publishedDirectories);
  }
}

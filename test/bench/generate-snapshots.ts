import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestContext } from '../../src/core/request-context';
import { SYSTEM_VIEWER } from '../../src/core/viewer';
import { MountKind } from '../../src/modules/mounts/mount.entity';
import { mountService } from '../../src/modules/mounts/mount.service';
import { currentPeriod, previousPeriod } from '../../src/modules/reports/period';
import { snapshotService } from '../../src/modules/reports/snapshot.service';
import { ANCHOR, prng, type Step } from './generate';
import type { Scale } from './scales';

/** Published, unmounted directories mounted in the current month: one in a hundred directories. */
const MOUNTED_SHARE = 0.01;
/** Active mounts taken down in the current month: one in five hundred directories. */
const UNMOUNTED_SHARE = 0.002;

/**
 * Two monthly snapshots, as the demo holds May and June 2023: the month the
 * report compares with (the one before the current month) captured, then a
 * month of changes (directories mounted, a few mounts taken down), then the
 * current month captured. So the dashboard's default page (the live figures
 * of the current month) and the report of the current month both show the
 * change since the compared month. Everything goes through the services the
 * API uses (snapshotService.capture, mountService), acting as the system.
 *
 * The months come from the clock when the steps run, so that a database
 * generated in one month and benchmarked in a later one can be given the
 * later month's snapshots (`npm run bench:seed -- --scale S --snapshots`): a
 * month already captured is kept, and when the current month is, nothing is
 * done. The changes are picked by the seed; their mounts' refresh times are
 * fixed (before ANCHOR), so a generation stays deterministic.
 */
export function snapshotSteps(orm: MikroORM, scale: Scale, seed: number, now: Date = new Date()): Step[] {
  const current = currentPeriod(now);
  const compared = previousPeriod(current);
  const ctx = (): RequestContext => ({ em: orm.em.fork(), viewer: SYSTEM_VIEWER });
  const captured = async (period: string) => (await snapshotService.find(orm.em.fork(), period)) !== null;
  let skip = false;
  return [
    {
      name: `snapshot ${compared} (compared month)`,
      async run() {
        skip = await captured(current);
        if (skip || (await captured(compared))) return 0;
        return (await snapshotService.capture(ctx(), { period: compared })).departmentCount;
      },
    },
    {
      name: `changes of ${current} (mounts)`,
      async run() {
        if (skip) return 0;
        const em = orm.em.fork();
        const key = `hashint8extended(c.id, ${Number(seed)}::bigint * 100000 + 90)`;
        const mount: { id: number }[] = await em.execute(
          `select c.id from resource_directory c where c.status = 'PUBLISHED' and c.active_mount_count = 0 order by ${key}, c.id limit ?`,
          [Math.max(1, Math.round(scale.directories * MOUNTED_SHARE))],
        );
        const unmount: { id: number }[] = await em.execute(
          `select min(m.id) as id from mount m join resource_directory c on c.id = m.directory_id
            where m.active and not m.hosted group by c.id order by ${key}, c.id limit ?`,
          [Math.max(1, Math.round(scale.directories * UNMOUNTED_SHARE))],
        );
        const random = prng(seed + 90);
        for (const { id } of mount) {
          await mountService.mount(ctx(), {
            directory: { id },
            kind: MountKind.TABLE,
            locator: `ods.t_${id}_new`,
            recordCount: Math.floor(Math.exp(9 + 2.5 * (random() - 0.5))),
            refreshedAt: new Date(Date.parse(ANCHOR) - Math.floor(random() * 30) * 86_400_000),
          });
        }
        for (const { id } of unmount) await mountService.unmount(ctx(), id);
        return mount.length + unmount.length;
      },
    },
    {
      name: `snapshot ${current} (current month)`,
      async run() {
        if (skip) return 0;
        return (await snapshotService.capture(ctx(), { period: current })).departmentCount;
      },
    },
  ];
}

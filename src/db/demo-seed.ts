import type { MikroORM } from '@mikro-orm/postgresql';
import { ResourceFormat, ShareType, UpdateCycle } from '../modules/catalogue/directory.entity';
import { directoryService } from '../modules/catalogue/directory.service';
import { creditCodeCheckCharacter } from '../modules/departments/credit-code';
import { departmentService } from '../modules/departments/department.service';
import { MountKind } from '../modules/mounts/mount.entity';
import { mountService } from '../modules/mounts/mount.service';
import { Region } from '../modules/regions/region.entity';
import { regionService } from '../modules/regions/region.service';
import type { RequestContext } from '../core/request-context';
import { SYSTEM_VIEWER } from '../core/viewer';
import { DEMO_DEPARTMENTS, DEMO_REGIONS, DEMO_RESOURCE_NAMES, DEMO_SUPERVISION, splitTotal } from './demo-data';
import { loadDemoSupervision } from './demo-supervision';
import { snapshotService } from '../modules/reports/snapshot.service';
import { loadDemoSharing } from './demo-sharing';
import { settleUsage } from '../modules/sharing/usage-fold';
import { JobStopped, withJobLock } from './periodic-job';
import { logger } from '../observability/logger';

/** The department whose steward the demo token stands for. */
export function demoStewardDepartment(): { creditCode: string; name: string } {
  const index = DEMO_DEPARTMENTS['410505'].findIndex((d) => d.name === '殷都区民政局');
  return { creditCode: demoCreditCode('410505', index + 1), name: '殷都区民政局' };
}

/** A valid credit code for demo department `n` of a region (机关, registered by 机构编制). */
export function demoCreditCode(regionCode: string, n: number): string {
  const first17 = `11${regionCode}${String(n).padStart(9, '0')}`;
  return first17 + creditCodeCheckCharacter(first17);
}

const DAY = 24 * 60 * 60 * 1000;

/** The advisory lock (two keys: "mulu" in ASCII, 3) that loading the demo holds, so that replicas starting at once load it once. */
export const DEMO_SEED_LOCK_KEYS = [0x6d756c75, 3] as const;

/**
 * Loads the demo dataset through the services, exactly as the API would,
 * unless the database already holds regions. One transaction: a start
 * interrupted while loading leaves an empty database, not half a demo. It
 * holds DEMO_SEED_LOCK_KEYS before it looks: two servers starting at once on
 * an empty database both found no region, and the second failed its start
 * on the first's region codes.
 */
export async function loadDemoIfEmpty(orm: MikroORM, stop?: AbortSignal): Promise<boolean> {
  let loaded: boolean | null;
  try {
    loaded = await withJobLock(
      orm.em,
      DEMO_SEED_LOCK_KEYS,
      true,
      async (em) => {
        // The loader acts as the server itself; its changes appear in the audit trail as SYSTEM.
        const ctx: RequestContext = { em, viewer: SYSTEM_VIEWER };
        if ((await ctx.em.count(Region, {})) > 0) return false;
        logger.info('The database is empty: loading the demo dataset (about a minute on a busy 2-core machine).');
        await loadDemo(ctx);
        return true;
      },
      // A shutdown ends the load (a minute of statements: waiting for it ran out the shutdown's time limit, then
      // stopped the database under it), or the wait for another replica loading it.
      stop,
    );
  } catch (error) {
    if (error instanceof JobStopped)
      throw new JobStopped('the demo dataset was being loaded: its load was stopped and rolled back, and the next start loads it again');
    throw error;
  }
  // The demo's deliveries are counted by the usage fold, once the demo has committed.
  if (loaded) await settleUsage(orm.em);
  // withJobLock waits for the lock, so never returns null here.
  return loaded === true;
}

/** The months the demo holds snapshots of: the report's month and the one it is compared with. */
export const DEMO_PERIODS = ['2023-05', '2023-06'] as const;

/**
 * The demo as of June 2023 (the report's figures), with a snapshot of May
 * captured on the way: what changed in June (some mounts, the records that
 * happened in June) is held back until May is captured, then applied and
 * June captured. So `/reports/410505/2023-06/...` and the change since May
 * work out of the box.
 */
async function loadDemo(ctx: RequestContext): Promise<void> {
  const inJune: (() => Promise<void>)[] = [];
  for (const region of DEMO_REGIONS) await regionService.create(ctx, region);

  const shareTypes = [ShareType.UNCONDITIONAL, ShareType.CONDITIONAL, ShareType.UNCONDITIONAL, ShareType.NOT_SHARED];
  const justiceMounts: { mountId: number; code: string; rows: number }[] = [];
  for (const [regionCode, departments] of Object.entries(DEMO_DEPARTMENTS)) {
    for (const [d, spec] of departments.entries()) {
      const department = await departmentService.create(ctx, { creditCode: demoCreditCode(regionCode, d + 1), name: spec.name, regionCode });
      const volumes = splitTotal(spec.dataVolume, spec.mounted);
      const total = spec.published + (spec.drafts ?? 0);
      for (let i = 0; i < total; i++) {
        const shareType = shareTypes[i % shareTypes.length];
        const directory = await directoryService.register(ctx, {
          code: `${regionCode}-${String(d + 1).padStart(3, '0')}-${String(i + 1).padStart(4, '0')}`,
          name: `${spec.name.replace(/^(殷都区|文峰区)/, '')}${DEMO_RESOURCE_NAMES[i % DEMO_RESOURCE_NAMES.length]}${i >= DEMO_RESOURCE_NAMES.length ? Math.floor(i / DEMO_RESOURCE_NAMES.length) + 1 : ''}`,
          departmentCreditCode: department.creditCode,
          summary: `${spec.name}公开共享的政务信息资源。`,
          classification: '部门信息资源',
          resourceFormat: i % 3 === 0 ? ResourceFormat.API : ResourceFormat.DATABASE,
          shareType,
          shareConditions:
            shareType === ShareType.UNCONDITIONAL ? null : shareType === ShareType.CONDITIONAL ? '仅用于政务服务办理' : '涉及个人隐私，依法不予共享',
          updateCycle: [UpdateCycle.MONTHLY, UpdateCycle.DAILY, UpdateCycle.QUARTERLY, UpdateCycle.YEARLY][i % 4],
          informationItems: [
            { name: '统一社会信用代码', dataType: '字符型', description: '主体标识' },
            { name: '名称', dataType: '字符型' },
            { name: '更新日期', dataType: '日期型' },
          ],
        });
        if (i >= spec.published) continue; // the drafts stay drafts
        await directoryService.publish(ctx, { id: directory.id });
        if (i < spec.mounted && spec.name === '殷都区司法局' && i < 2) {
          // Held by Mulu: rows are loaded below, as many as the report counts (loadDemoSharing).
          const hosted = await mountService.mount(ctx, {
            directory: { id: directory.id },
            kind: MountKind.TABLE,
            locator: `mulu:${directory.code}`,
            hosted: true,
          });
          justiceMounts.push({ mountId: hosted.id, code: directory.code, rows: volumes[i] });
        } else if (i < spec.mounted) {
          // Every fifth mounted directory was last refreshed long ago: stale data.
          const refreshedAt = new Date(Date.now() - (i % 5 === 4 ? 400 : 0.1) * DAY);
          const mount = () =>
            mountService.mount(ctx, {
              directory: { id: directory.id },
              kind: MountKind.TABLE,
              locator: `ods.${regionCode}_${d + 1}_${i + 1}`,
              recordCount: volumes[i],
              refreshedAt,
            });
          // Every sixth mounted directory (from the second department on) was mounted in June.
          if (d > 0 && i % 6 === 5) inJune.push(async () => void (await mount()));
          else await mount();
        } else if (i === spec.mounted && i === spec.published - 1) {
          // A dataset that was mounted and then taken down: history, not a mount.
          const old = await mountService.mount(ctx, {
            directory: { id: directory.id },
            kind: MountKind.FILE,
            locator: `/share/${regionCode}/${d + 1}/old.xlsx`,
            recordCount: 12,
          });
          await mountService.unmount(ctx, old.id);
        }
      }
      if (spec.name === '殷都区民政局') {
        // A directory that was published and later withdrawn no longer counts.
        const extra = await directoryService.register(ctx, {
          code: `${regionCode}-${String(d + 1).padStart(3, '0')}-9999`,
          name: '民政局旧版低保名录',
          departmentCreditCode: department.creditCode,
          resourceFormat: ResourceFormat.SPREADSHEET,
          shareType: ShareType.UNCONDITIONAL,
          updateCycle: UpdateCycle.YEARLY,
          informationItems: [{ name: '姓名', dataType: '字符型' }],
        });
        await directoryService.publish(ctx, { id: extra.id });
        await directoryService.withdraw(ctx, { id: extra.id });
      }
    }
  }
  // Data sharing: hosted rows, a grant restricted to some items, and the deliveries usage counts.
  const codeOf = (name: string) => demoCreditCode('410505', DEMO_DEPARTMENTS['410505'].findIndex((d) => d.name === name) + 1);
  await loadDemoSharing(
    ctx,
    { creditCode: codeOf('殷都区司法局'), mounts: justiceMounts },
    { education: { creditCode: codeOf('殷都区教育局'), name: '殷都区教育局' }, civilAffairs: { creditCode: codeOf('殷都区民政局'), name: '殷都区民政局' } },
  );
  // Appendix 5: the supervision figures, on the departments that report them.
  for (const [s, spec] of DEMO_SUPERVISION.entries()) {
    const department = await departmentService.create(ctx, { creditCode: demoCreditCode('410505', 101 + s), name: spec.name, regionCode: '410505' });
    inJune.push(await loadDemoSupervision(ctx, department.creditCode, spec, `JG${String(s + 1).padStart(2, '0')}`));
    // One transaction for the whole demo: keep its identity map small, or every flush rereads all of it.
    ctx.em.clear();
  }
  await snapshotService.captureWithin(ctx, DEMO_PERIODS[0]);
  for (const step of inJune) {
    await step();
    ctx.em.clear();
  }
  await snapshotService.captureWithin(ctx, DEMO_PERIODS[1]);
}

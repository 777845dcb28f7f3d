import { creditCodeCheckCharacter } from '../modules/departments/credit-code';
import { ActorKind, Role, type Viewer } from '../core/viewer';
import { LoadMode, SharingRoute } from '../modules/sharing/dataset.entity';
import { datasetService } from '../modules/sharing/dataset.service';
import { deliveryService } from '../modules/sharing/delivery.service';
import { subscriptionService } from '../modules/subscriptions/subscription.service';
import type { RequestContext } from '../core/request-context';

const FIRMS = [
  '河南殷墟律师事务所',
  '安阳彰德律师事务所',
  '河南洹水律师事务所',
  '安阳殷都公证处',
  '河南正义律师事务所',
  '安阳铁西法律服务所',
  '河南昭明律师事务所',
  '殷都区水冶法律服务所',
  '河南安泰律师事务所',
  '殷都区曲沟法律服务所',
];

/** Real-looking rows of a Yindu justice bureau directory (律师事务所名录): valid credit codes, names, update dates. */
export function demoFirmRows(count: number, offset: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    const first17 = `31410505MD${String(4_500_000 + n * 7919).padStart(7, '0')}`;
    return {
      统一社会信用代码: first17 + creditCodeCheckCharacter(first17),
      名称: FIRMS[n % FIRMS.length],
      更新日期: `2023-06-${String(1 + (n % 28)).padStart(2, '0')}`,
    };
  });
}

const stewardOf = (creditCode: string, name: string): Viewer => ({
  kind: ActorKind.SYSTEM,
  id: `demo-steward-${creditCode}`,
  name: `${name}数据管理员（演示）`,
  role: Role.STEWARD,
  departmentCreditCode: creditCode,
});

/**
 * Data sharing in the demo: two directories of the justice bureau hold their
 * rows in Mulu (as many as appendix 4 counts for them, so the report's
 * figures stay exact); the education bureau subscribes to the unconditional
 * one, the civil affairs bureau is granted two of the three items of the
 * conditional one; both read rows, which the usage figures count.
 */
export async function loadDemoSharing(
  ctx: RequestContext,
  justice: { creditCode: string; mounts: { mountId: number; code: string; rows: number }[] },
  consumers: { education: { creditCode: string; name: string }; civilAffairs: { creditCode: string; name: string } },
): Promise<void> {
  let offset = 0;
  for (const mount of justice.mounts) {
    await datasetService.load(ctx, {
      mountId: mount.mountId,
      mode: LoadMode.REPLACE,
      route: SharingRoute.GRAPHQL,
      idempotencyKey: `demo-${mount.code}`,
      rows: demoFirmRows(mount.rows, offset).map((values, i) => ({ row: i + 1, values })),
    });
    offset += mount.rows;
  }
  const [open, conditional] = justice.mounts;
  const education: RequestContext = { em: ctx.em, viewer: stewardOf(consumers.education.creditCode, consumers.education.name) };
  await subscriptionService.request(education, { directory: { code: open.code }, purpose: '核验学校法律顾问单位资质' });
  const civil: RequestContext = { em: ctx.em, viewer: stewardOf(consumers.civilAffairs.creditCode, consumers.civilAffairs.name) };
  const request = await subscriptionService.request(civil, { directory: { code: conditional.code }, purpose: '社会救助法律援助机构对接' });
  await subscriptionService.approve(ctx, { id: request.id, reason: '仅提供机构名称与更新日期', grantedItems: ['名称', '更新日期'] });
  await deliveryService.page(education, { code: open.code }, { first: 100 });
  await deliveryService.page(education, { code: open.code }, { first: 2 });
  await deliveryService.page(civil, { code: conditional.code }, { first: 100 });
}

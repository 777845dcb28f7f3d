import { SUPERVISION_CATEGORIES, type SupervisionCategory } from '../modules/supervision/supervision.entity';
import { supervisionRecordService } from '../modules/supervision/supervision-record.service';
import { supervisionService } from '../modules/supervision/supervision.service';
import type { RequestContext } from '../core/request-context';
import { splitTotal, type DemoSupervision } from './demo-data';

/**
 * Registers a department's supervision items and pushes its records through
 * the services so that its figures are exactly `spec`: the first covered main
 * items each hold a covered sub-item, uncovered sub-items go to the other
 * main items first, and each category's records spread over its covered
 * sub-items. Every fourth record of a sub-item happened in June 2023, the
 * others in May: the May records are pushed now, the June records by the
 * returned step, which the demo runs after capturing May (so June's report
 * shows the change since May: more records, sub-items covered in June).
 */
export async function loadDemoSupervision(
  ctx: RequestContext,
  departmentCreditCode: string,
  spec: DemoSupervision,
  prefix: string,
): Promise<() => Promise<void>> {
  const covered: { category: SupervisionCategory; records: number }[] = [];
  const uncovered: SupervisionCategory[] = [];
  spec.categories.forEach(([items, coveredItems, records], c) => {
    const category = SUPERVISION_CATEGORIES[c];
    splitTotal(records, coveredItems).forEach((n) => covered.push({ category, records: n }));
    for (let i = coveredItems; i < items; i++) uncovered.push(category);
  });
  const mainCode = (m: number) => `${prefix}-${String(m + 1).padStart(3, '0')}`;
  for (let m = 0; m < spec.mainItems; m++) {
    await supervisionService.createMainItem(ctx, {
      departmentCreditCode,
      code: mainCode(m),
      name: `监管事项 ${m + 1}`,
      legalBasis: '《中华人民共和国行政许可法》',
    });
  }
  const uncoveredMains = spec.mainItems - spec.coveredMainItems;
  const subItems = [
    ...covered.map((item, i) => ({ ...item, code: `${prefix}-C${i + 1}`, main: i % spec.coveredMainItems })),
    ...uncovered.map((category, i) => ({
      category,
      records: 0,
      code: `${prefix}-U${i + 1}`,
      main: i < uncoveredMains ? spec.coveredMainItems + i : i % spec.mainItems,
    })),
  ];
  for (const [i, item] of subItems.entries()) {
    await supervisionService.createSubItem(ctx, {
      departmentCreditCode,
      mainItemCode: mainCode(item.main),
      code: item.code,
      name: `子项 ${item.code}`,
      category: item.category,
    });
    if (i % 50 === 49) ctx.em.clear();
  }
  const records = subItems.flatMap((item) =>
    Array.from({ length: item.records }, (_, r) => ({
      subItemCode: item.code,
      source: 'henan-zhifa',
      externalId: `${item.code}-${r + 1}`,
      occurredAt: new Date(Date.UTC(2023, r % 4 === 0 ? 5 : 4, 1 + (r % 28))),
    })),
  );
  const may = records.filter((r) => r.occurredAt.getUTCMonth() === 4);
  const june = records.filter((r) => r.occurredAt.getUTCMonth() === 5);
  if (may.length) await supervisionRecordService.ingest(ctx, { departmentCreditCode, records: may });
  return async () => {
    if (june.length) await supervisionRecordService.ingest(ctx, { departmentCreditCode, records: june });
  };
}

import { SUPERVISION_CATEGORIES } from '../../src/modules/supervision/supervision.entity';
import { ANCHOR, distributeSql, type Step } from './generate';
import type { Scale } from './scales';

/** Share of sub-items per category, in SUPERVISION_CATEGORIES order (inspection, penalty, coercion, other). */
const CATEGORY_SHARES = [0.45, 0.35, 0.1, 0.1];
const CATEGORY_WORDS: Record<string, string> = { INSPECTION: '行政检查', PENALTY: '行政处罚', COERCION: '行政强制', OTHER: '其他监管' };
const SUBJECTS = [
  '食品经营',
  '药品零售',
  '建筑施工',
  '道路运输',
  '危险化学品',
  '特种设备',
  '排污单位',
  '医疗机构',
  '学校食堂',
  '旅游经营',
  '消防安全',
  '农产品质量',
  '劳动用工',
  '税收征管',
  '广告发布',
];
const LAWS = [
  '《中华人民共和国行政处罚法》',
  '《中华人民共和国行政许可法》',
  '《中华人民共和国行政强制法》',
  '《中华人民共和国食品安全法》',
  '《中华人民共和国安全生产法》',
];
const sqlArray = (values: readonly string[]) => `(array[${values.map((v) => `'${v}'`).join(',')}])`;

/** Fraction of stored records later corrected by a record that supersedes them. */
export const CORRECTED_SHARE = 0.002;

/**
 * Supervision items and records as the supervision services write them:
 * main items per department (log-normal share), sub-items per main item
 * (log-normal share, some main items without any), categories 45/35/10/10%,
 * records skewed over sub-items with a third of the sub-items getting none,
 * 0.2% of records corrected by a later record (`supersedes_id`, the old one
 * flagged `superseded`), and each sub-item's `record_count` set to its
 * counting (not superseded) records, as ingestion keeps it.
 */
export function supervisionSteps(scale: Scale): Step[] {
  const anchor = `'${ANCHOR}'::timestamptz`;
  const categoryCase = (u: string) => {
    let cumulative = 0;
    const whens = SUPERVISION_CATEGORIES.map((category, i) => {
      cumulative += CATEGORY_SHARES[i];
      return i === SUPERVISION_CATEGORIES.length - 1 ? `else '${category}'` : `when ${u} < ${cumulative} then '${category}'`;
    });
    return `(case ${whens.join(' ')} end)::supervision_category`;
  };
  const wordCase = (column: string) =>
    `(case ${column} ${Object.entries(CATEGORY_WORDS)
      .map(([c, w]) => `when '${c}' then '${w}'`)
      .join(' ')} end)`;
  return [
    {
      name: 'supervision main items',
      async run(client) {
        const counts = distributeSql(`select id, exp(0.8 * pg_temp.n(50, id)) as w from department`, scale.mainItems);
        const result = await client.query(
          `insert into supervision_main_item (department_id, code, name, legal_basis, created_at, updated_at)
           select c.id, 'ZX' || lpad(k::text, 4, '0'),
                  ${sqlArray(SUBJECTS)}[1 + floor(pg_temp.u(51, c.id::bigint * 10000 + k) * ${SUBJECTS.length})::int] || '监督管理',
                  ${sqlArray(LAWS)}[1 + floor(pg_temp.u(52, c.id::bigint * 10000 + k) * ${LAWS.length})::int],
                  ${anchor} - interval '3 years' + interval '1 day' * floor(pg_temp.u(53, c.id::bigint * 10000 + k) * 365),
                  ${anchor} - interval '3 years' + interval '1 day' * floor(pg_temp.u(53, c.id::bigint * 10000 + k) * 365)
             from ${counts} c, generate_series(1, c.cnt) k
            order by c.id, k`,
        );
        return result.rowCount ?? 0;
      },
    },
    {
      name: 'supervision sub-items',
      async run(client) {
        const counts = distributeSql(`select id, exp(0.5 * pg_temp.n(54, id)) as w from supervision_main_item`, scale.subItems);
        const result = await client.query(
          `insert into supervision_sub_item (department_id, main_item_id, code, name, category, created_at, updated_at)
           select m.department_id, m.id, m.code || '-' || lpad(j::text, 3, '0'), m.name || '（' || ${wordCase('cat.category')} || '）', cat.category, m.created_at, m.created_at
             from ${counts} c
             join supervision_main_item m on m.id = c.id,
                  generate_series(1, c.cnt) j,
                  lateral (select ${categoryCase('pg_temp.u(55, m.id::bigint * 1000 + j)')} as category) cat
            order by m.id, j`,
        );
        return result.rowCount ?? 0;
      },
    },
    {
      name: 'supervision records',
      async run(client) {
        // A third of the sub-items get no record; the rest a log-normal share (sigma 1.5).
        const counts = distributeSql(
          `select id, case when pg_temp.u(56, id) < 1.0 / 3 then 0 else exp(1.5 * pg_temp.n(57, id)) end as w from supervision_sub_item`,
          scale.records,
        );
        const result = await client.query(
          `insert into supervision_record (department_id, sub_item_id, source, external_id, occurred_at, payload, received_at)
           select x.department_id, x.id, (array['upstream-platform', 'department-push', 'inspection-app'])[1 + floor(pg_temp.u(58, x.g) * 3)::int],
                  'R' || lpad(x.g::text, 10, '0'), t.occurred,
                  case when pg_temp.u(59, x.g) < 0.1 then jsonb_build_object('place', '现场', 'officers', 2) end,
                  t.occurred + interval '1 minute' * floor(pg_temp.u(60, x.g) * 1440)
             from (select c.id, si.department_id, row_number() over (order by c.id, k) as g
                     from ${counts} c join supervision_sub_item si on si.id = c.id, generate_series(1, c.cnt) k) x,
                  lateral (select ${anchor} - interval '1 second' * floor(pg_temp.u(61, x.g) * 365 * 86400) as occurred) t
            order by x.g`,
        );
        // Corrections: a later record of the same sub-item supersedes the old one, which stops counting.
        const corrections = await client.query(
          `with corrected as (
             insert into supervision_record (department_id, sub_item_id, source, external_id, occurred_at, payload, supersedes_id, received_at)
             select r.department_id, r.sub_item_id, r.source, 'C' || lpad(r.id::text, 10, '0'), r.occurred_at, jsonb_build_object('correction', true), r.id,
                    least(r.received_at + interval '3 days', ${anchor})
               from supervision_record r where pg_temp.u(62, r.id) < ${CORRECTED_SHARE}
              order by r.id
             returning supersedes_id)
           update supervision_record r set superseded = true from corrected c where r.id = c.supersedes_id`,
        );
        // The counter ingestion keeps: counting (not superseded) records per sub-item.
        await client.query(
          `update supervision_sub_item s set record_count = c.n
             from (select sub_item_id, count(*) as n from supervision_record where not superseded group by sub_item_id) c
            where s.id = c.sub_item_id`,
        );
        return (result.rowCount ?? 0) + (corrections.rowCount ?? 0);
      },
    },
  ];
}

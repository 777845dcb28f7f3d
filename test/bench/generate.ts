import type { Client } from 'pg';
import { creditCodeCheckCharacter } from '../../src/modules/departments/credit-code';
import { RegionLevel } from '../../src/modules/regions/region.entity';
import { CITY_CODE, DISTRICT_CODE, PROVINCE_CODE, type Scale } from './scales';

/**
 * The benchmark data generator: bulk SQL, mostly `insert ... select` over
 * `generate_series` on the server, so the province scale loads in minutes.
 *
 * It bypasses GraphQL but writes what the API would have written: valid
 * GB 32100 credit codes and GB/T 2260 region codes, the region closure
 * table, published directories with information items and share conditions
 * where the rules ask for them, and the derived columns the services keep
 * in the same transaction (each directory's mount summary; later the
 * sub-items' record counters) set by grouped updates from the rows they
 * summarise.
 *
 * Randomness is a hash of (seed, stream, row key) (`pg_temp.u`), so a seed
 * gives the same data whatever the plan or the number of parallel workers.
 * Timestamps are relative to a fixed ANCHOR for the same reason.
 */

/** Every generated timestamp lies before this instant. */
export const ANCHOR = '2026-11-01T00:00:00Z';

export interface GenerateOptions {
  scale: Scale;
  seed: number;
  log?: (line: string) => void;
}

export interface StepTiming {
  step: string;
  rows: number;
  seconds: number;
}

/** Small deterministic PRNG (mulberry32) for the parts built in TypeScript. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RegionRow {
  code: string;
  name: string;
  level: RegionLevel;
  parentCode: string | null;
}

const CITIES: [string, string][] = [
  ['410100', '郑州市'],
  ['410200', '开封市'],
  ['410300', '洛阳市'],
  ['410400', '平顶山市'],
  ['410500', '安阳市'],
  ['410600', '鹤壁市'],
  ['410700', '新乡市'],
  ['410800', '焦作市'],
  ['410900', '濮阳市'],
  ['411000', '许昌市'],
  ['411100', '漯河市'],
  ['411200', '三门峡市'],
  ['411300', '南阳市'],
  ['411400', '商丘市'],
  ['411500', '信阳市'],
  ['411600', '周口市'],
  ['411700', '驻马店市'],
  ['419000', '省直辖县级行政区划'],
];

/** Anyang's real county-level units, Yindu first so that the district scale picks it. */
const ANYANG_DISTRICTS: [string, string][] = [
  ['410505', '殷都区'],
  ['410502', '文峰区'],
  ['410503', '北关区'],
  ['410506', '龙安区'],
  ['410522', '安阳县'],
  ['410523', '汤阴县'],
  ['410526', '滑县'],
  ['410527', '内黄县'],
  ['410581', '林州市'],
];

/** The region tree of a scale: the province, its cities (Anyang first) and their districts. */
export function regionTree(scale: Scale, random: () => number): RegionRow[] {
  const rows: RegionRow[] = [{ code: PROVINCE_CODE, name: '河南省', level: RegionLevel.PROVINCE, parentCode: null }];
  const anyang = CITIES.find(([code]) => code === CITY_CODE)!;
  const cities = [anyang, ...CITIES.filter(([code]) => code !== CITY_CODE)].slice(0, scale.cities);
  if (cities.length !== scale.cities) throw new Error(`At most ${CITIES.length} cities.`);
  // Districts per city: Anyang its real 9, 419000 its one (济源市), the rest spread evenly, a few with one more.
  const perCity = new Map<string, number>(cities.map(([code]) => [code, 0]));
  let left = scale.districts;
  const fixed = (code: string, n: number) => {
    if (perCity.has(code)) {
      const take = Math.min(n, left);
      perCity.set(code, take);
      left -= take;
    }
  };
  fixed(CITY_CODE, ANYANG_DISTRICTS.length);
  fixed('419000', 1);
  const others = cities.map(([code]) => code).filter((code) => code !== CITY_CODE && code !== '419000');
  if (others.length) {
    const base = Math.floor(left / others.length);
    for (const code of others) perCity.set(code, base);
    for (let extra = left - base * others.length; extra > 0; extra--) {
      const code = others[Math.floor(random() * others.length)];
      perCity.set(code, perCity.get(code)! + 1);
    }
  }
  for (const [cityCode, cityName] of cities) {
    rows.push({ code: cityCode, name: cityName, level: RegionLevel.CITY, parentCode: PROVINCE_CODE });
    const n = perCity.get(cityCode)!;
    const prefix = cityCode.slice(0, 4);
    const short = cityName.replace(/市$/, '');
    for (let i = 0; i < n; i++) {
      let code: string;
      let name: string;
      if (cityCode === CITY_CODE) [code, name] = ANYANG_DISTRICTS[i];
      else if (cityCode === '419000') [code, name] = ['419001', '济源市'];
      else if (i < Math.ceil(n * 0.4)) [code, name] = [`${prefix}${String(i + 2).padStart(2, '0')}`, `${short}第${i + 1}区`];
      else [code, name] = [`${prefix}${String(21 + i).padStart(2, '0')}`, `${short}第${i + 1}县`];
      rows.push({ code, name, level: RegionLevel.DISTRICT, parentCode: cityCode });
    }
  }
  if (!rows.some((r) => r.code === DISTRICT_CODE)) throw new Error(`The tree must hold ${DISTRICT_CODE}.`);
  return rows;
}

const DEPARTMENT_TYPES = [
  '发展和改革委员会',
  '教育局',
  '科学技术局',
  '工业和信息化局',
  '公安局',
  '民政局',
  '司法局',
  '财政局',
  '人力资源和社会保障局',
  '自然资源和规划局',
  '生态环境局',
  '住房和城乡建设局',
  '交通运输局',
  '水利局',
  '农业农村局',
  '商务局',
  '文化广电和旅游局',
  '卫生健康委员会',
  '退役军人事务局',
  '应急管理局',
  '审计局',
  '市场监督管理局',
  '统计局',
  '医疗保障局',
  '林业局',
  '体育局',
  '信访局',
  '城市管理局',
  '机关事务管理局',
  '地方金融监督管理局',
  '政务服务和大数据管理局',
  '住房公积金管理中心',
  '税务局',
  '气象局',
  '消防救援支队',
  '烟草专卖局',
  '残疾人联合会',
  '妇女联合会',
  '总工会',
  '共青团委员会',
  '科学技术协会',
  '红十字会',
  '档案馆',
  '图书馆',
  '人民医院',
  '中医院',
  '疾病预防控制中心',
  '妇幼保健院',
  '公共资源交易中心',
  '不动产登记中心',
  '社会保险中心',
  '就业服务中心',
  '民族宗教事务局',
  '粮食和物资储备局',
  '人民防空办公室',
  '外事办公室',
  '乡村振兴局',
  '数据局',
  '自来水公司',
  '供电公司',
];

/** Directory name topics; the catalogue scenario searches one of them (许可, in 5 of 50). */
const TOPICS = [
  '人口基础',
  '法人基础',
  '企业登记',
  '个体工商户',
  '社保参保',
  '医保结算',
  '不动产登记',
  '机动车',
  '驾驶证',
  '婚姻登记',
  '出生医学证明',
  '死亡登记',
  '低保救助',
  '残疾人',
  '退役军人',
  '教育学籍',
  '教师资格',
  '执业医师',
  '药品许可',
  '食品经营许可',
  '建设工程许可',
  '排污许可',
  '环境监测',
  '气象观测',
  '水文监测',
  '农业补贴',
  '土地承包',
  '林权',
  '宅基地',
  '税务登记',
  '纳税信用',
  '公积金缴存',
  '就业登记',
  '职业技能',
  '住房保障',
  '公共信用',
  '行政处罚',
  '行政许可',
  '消防检查',
  '安全生产',
  '交通违法',
  '公交运营',
  '燃气供应',
  '供水用户',
  '电力用户',
  '文物保护',
  '旅游景区',
  '体育场馆',
  '统计调查',
  '市场主体年报',
];
const NAME_SUFFIXES = ['信息', '数据', '名录', '台账', '统计表', '目录'];
const CLASSIFICATIONS = [
  '基础信息资源/人口',
  '基础信息资源/法人',
  '基础信息资源/空间地理',
  '基础信息资源/电子证照',
  '主题信息资源/社会保障',
  '主题信息资源/市场监管',
  '主题信息资源/生态环境',
  '部门信息资源/业务',
];
const ITEM_NAMES = ['统一社会信用代码', '名称', '证件号码', '姓名', '地址', '登记日期', '有效期', '状态', '联系电话', '金额', '数量', '备注'];
const ITEM_TYPES = ['字符型', '字符型', '字符型', '字符型', '字符型', '日期型', '日期型', '字符型', '字符型', '数值型', '数值型', '字符型'];

/** Splits `total` by weights into whole numbers that add up to it (largest remainder). */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length][1]]++;
  return counts;
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
}

interface DepartmentRow {
  creditCode: string;
  name: string;
  regionCode: string;
}

/**
 * Departments over the tree: 1% at the province, 9% spread over the cities,
 * the rest over the districts by a log-normal weight (districts differ in size).
 */
export function departmentRows(scale: Scale, regions: RegionRow[], random: () => number): DepartmentRow[] {
  const weights = regions.map((r) => {
    if (r.level === RegionLevel.PROVINCE) return 0.01;
    if (r.level === RegionLevel.CITY) return 0.09 / scale.cities;
    return (0.9 / scale.districts) * Math.exp(0.3 * normal(random));
  });
  const counts = apportion(scale.departments, weights);
  const rows: DepartmentRow[] = [];
  let serial = 0;
  regions.forEach((region, r) => {
    for (let i = 0; i < counts[r]; i++) {
      const round = Math.floor(i / DEPARTMENT_TYPES.length);
      const type = DEPARTMENT_TYPES[i % DEPARTMENT_TYPES.length];
      const first17 = `11${region.code}${String(++serial).padStart(9, '0')}`;
      rows.push({
        creditCode: first17 + creditCodeCheckCharacter(first17),
        name: `${region.name}${type}${round ? `第${round + 1}分支` : ''}`,
        regionCode: region.code,
      });
    }
  });
  return rows;
}

const sqlArray = (values: readonly string[]) => `array[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')}]`;

/**
 * SQL returning (id, cnt): `total` spread over the rows of `weights` (columns
 * id, w >= 0) in proportion to w. Floors of the cumulative share, so the
 * counts add up to `total` exactly.
 */
export function distributeSql(weights: string, total: number): string {
  return `(with w as (${weights}),
      c as (select id, sum(w) over (order by id rows unbounded preceding) as cum from w),
      f as (select id, floor(${total}::float8 * cum / max(cum) over ())::bigint as hi from c)
    select id, hi - coalesce(lag(hi) over (order by id), 0) as cnt from f)`;
}

/** A step of the generator; `run` returns how many rows it wrote. */
export interface Step {
  name: string;
  run(client: Client): Promise<number>;
}

/** Session set-up: the hash-based random functions and bulk-load settings. */
async function prepareSession(client: Client, seed: number): Promise<void> {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a whole number >= 0, got ${seed}.`);
  await client.query(`set synchronous_commit = off`);
  await client.query(`set work_mem = '256MB'`);
  await client.query(`set maintenance_work_mem = '512MB'`);
  await client.query(`set max_parallel_workers_per_gather = 0`);
  // u(stream, key): uniform in [0, 1) from the seed, a stream number and a row key.
  await client.query(`create or replace function pg_temp.u(stream int, key bigint) returns float8 language sql immutable parallel safe as
    $$ select ((hashint8extended(key, ${seed}::bigint * 100000 + stream) & 9007199254740991)::float8 / 9007199254740992.0) $$`);
  // n(stream, key): standard normal (Box-Muller over two independent uniforms).
  await client.query(`create or replace function pg_temp.n(stream int, key bigint) returns float8 language sql immutable parallel safe as
    $$ select sqrt(-2 * ln(greatest(pg_temp.u(stream, key), 1e-300))) * cos(2 * pi() * pg_temp.u(stream + 50000, key)) $$`);
}

/** The foundation steps: regions, departments, directories and mounts. */
export function foundationSteps(scale: Scale, seed: number): Step[] {
  const random = prng(seed);
  const regions = regionTree(scale, random);
  const departments = departmentRows(scale, regions, random);
  const anchor = `'${ANCHOR}'::timestamptz`;
  return [
    {
      name: 'regions and region closure',
      async run(client) {
        await client.query(
          `insert into region (code, name, level, parent_code, created_at, updated_at)
           select code, name, level::region_level, parent_code, ${anchor} - interval '5 years', ${anchor} - interval '5 years'
             from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as r(code, name, level, parent_code)`,
          [regions.map((r) => r.code), regions.map((r) => r.name), regions.map((r) => r.level), regions.map((r) => r.parentCode)],
        );
        // What regionService.create writes: every ancestor at its depth, and the region itself at depth 0.
        const closure = await client.query(
          `insert into region_closure (ancestor_code, descendant_code, depth)
           with recursive up(ancestor_code, descendant_code, depth) as (
             select code, code, 0 from region
             union all
             select r.parent_code, up.descendant_code, up.depth + 1 from up join region r on r.code = up.ancestor_code where r.parent_code is not null)
           select ancestor_code, descendant_code, depth from up`,
        );
        return regions.length + (closure.rowCount ?? 0);
      },
    },
    {
      name: 'departments',
      async run(client) {
        const result = await client.query(
          `insert into department (credit_code, name, region_code, created_at, updated_at)
           select credit_code, name, region_code, ts, ts
             from unnest($1::text[], $2::text[], $3::text[]) with ordinality as d(credit_code, name, region_code, n),
                  lateral (select ${anchor} - interval '4 years' + (n * interval '1 minute')) t(ts)
            order by n`,
          [departments.map((d) => d.creditCode), departments.map((d) => d.name), departments.map((d) => d.regionCode)],
        );
        return result.rowCount ?? 0;
      },
    },
    {
      name: 'resource directories',
      async run(client) {
        // Per department a log-normal share (sigma 1: a few departments own many
        // directories, some none); rows in a shuffled order so that each
        // department's directories spread over the id range as registration does.
        const counts = distributeSql(`select id, exp(pg_temp.n(1, id)) as w from department`, scale.directories);
        const result = await client.query(
          `insert into resource_directory (code, name, summary, department_id, classification, resource_format, information_items,
              share_type, share_conditions, share_method, open_to_public, update_cycle, status, published_at, withdrawn_at, created_at, updated_at)
           select lpad(x.department_id::text, 6, '0') || '/' || lpad(x.k::text, 5, '0'),
                  (${sqlArray(TOPICS)})[1 + floor(pg_temp.u(10, x.n) * ${TOPICS.length})::int] || (${sqlArray(NAME_SUFFIXES)})[1 + floor(pg_temp.u(11, x.n) * ${NAME_SUFFIXES.length})::int],
                  '本部门履职过程中产生的业务数据。',
                  x.department_id,
                  (${sqlArray(CLASSIFICATIONS)})[1 + floor(pg_temp.u(12, x.n) * ${CLASSIFICATIONS.length})::int],
                  (case when pg_temp.u(13, x.n) < 0.5 then 'DATABASE' when pg_temp.u(13, x.n) < 0.7 then 'API' when pg_temp.u(13, x.n) < 0.85 then 'SPREADSHEET'
                        when pg_temp.u(13, x.n) < 0.95 then 'FILE' else 'OTHER' end)::resource_format,
                  (select jsonb_agg(jsonb_build_object('name', (${sqlArray(ITEM_NAMES)})[j], 'dataType', (${sqlArray(ITEM_TYPES)})[j], 'description', null) order by j)
                     from generate_series(1, 1 + floor(pg_temp.u(14, x.n) * 8)::int) j),
                  s.share_type::share_type,
                  case s.share_type when 'CONDITIONAL' then '仅限履职需要，经提供方审核后使用。' when 'NOT_SHARED' then '依据《中华人民共和国个人信息保护法》不予共享。' end,
                  (case when pg_temp.u(16, x.n) < 0.6 then 'API' when pg_temp.u(16, x.n) < 0.8 then 'DATABASE_EXCHANGE' when pg_temp.u(16, x.n) < 0.95 then 'FILE_DOWNLOAD' else 'ONLINE_QUERY' end)::share_method,
                  pg_temp.u(17, x.n) < 0.2,
                  (case when pg_temp.u(18, x.n) < 0.05 then 'REAL_TIME' when pg_temp.u(18, x.n) < 0.25 then 'DAILY' when pg_temp.u(18, x.n) < 0.35 then 'WEEKLY'
                        when pg_temp.u(18, x.n) < 0.75 then 'MONTHLY' when pg_temp.u(18, x.n) < 0.9 then 'QUARTERLY' else 'YEARLY' end)::update_cycle,
                  st.status::directory_status,
                  case when st.status <> 'DRAFT' then t.created + interval '1 day' * (1 + floor(pg_temp.u(20, x.n) * 60)) end,
                  case when st.status = 'WITHDRAWN' then t.created + interval '1 day' * (61 + floor(pg_temp.u(21, x.n) * 90)) end,
                  t.created,
                  t.created + interval '1 day' * 151
             from (select c.id as department_id, k, row_number() over (order by pg_temp.u(2, c.id::bigint * 1000003 + k), c.id, k) as n
                     from ${counts} c, generate_series(1, c.cnt) k) x,
                  lateral (select case when pg_temp.u(15, x.n) < 0.6 then 'UNCONDITIONAL' when pg_temp.u(15, x.n) < 0.9 then 'CONDITIONAL' else 'NOT_SHARED' end) s(share_type),
                  lateral (select case when pg_temp.u(19, x.n) < 0.6 then 'PUBLISHED' when pg_temp.u(19, x.n) < 0.9 then 'DRAFT' else 'WITHDRAWN' end) st(status),
                  lateral (select ${anchor} - interval '3 years' + interval '1 second' * floor(x.n::float8 / ${scale.directories} * 2.5 * 365 * 86400)) t(created)
            order by x.n`,
        );
        return result.rowCount ?? 0;
      },
    },
    {
      name: 'mounts',
      async run(client) {
        // 60% of published directories mounted: one active mount, 15% two; 10% of
        // those and 5% of the unmounted ones also keep an unmounted (inactive)
        // one as history. Record counts log-normal (median ~8,000, long tail);
        // refresh ages exponential in units of the update cycle (~25% stale).
        const result = await client.query(
          `insert into mount (directory_id, kind, locator, record_count, last_refreshed_at, active, mounted_at, unmounted_at, created_at, updated_at)
           select c.id,
                  (case when pg_temp.u(30, key) < 0.6 then 'TABLE' when pg_temp.u(30, key) < 0.9 then 'API' else 'FILE' end)::mount_kind,
                  'ods.t_' || c.id || '_' || m,
                  least(floor(exp(9 + 2.5 * pg_temp.n(31, key))), 100000000000)::bigint,
                  r.refreshed, m <= a.active_count, r.refreshed - interval '1 day' * floor(pg_temp.u(33, key) * 365),
                  case when m > a.active_count then r.refreshed + (${anchor} - r.refreshed) * pg_temp.u(34, key) end,
                  r.refreshed - interval '1 day' * floor(pg_temp.u(33, key) * 365),
                  case when m > a.active_count then r.refreshed + (${anchor} - r.refreshed) * pg_temp.u(34, key) else r.refreshed end
             from resource_directory c,
                  lateral (select pg_temp.u(20, c.id) < 0.6 as mounted) mo,
                  lateral (select case when not mo.mounted then 0 when pg_temp.u(21, c.id) < 0.15 then 2 else 1 end as active_count,
                                  case when pg_temp.u(22, c.id) < (case when mo.mounted then 0.1 else 0.05 end) then 1 else 0 end as inactive_count) a,
                  generate_series(1, a.active_count + a.inactive_count) m,
                  lateral (select c.id::bigint * 8 + m as key) k,
                  lateral (select least(${anchor} - interval '1 hour',
                                        ${anchor} - (case c.update_cycle when 'REAL_TIME' then 1 when 'DAILY' then 1 when 'WEEKLY' then 7 when 'MONTHLY' then 30
                                                     when 'QUARTERLY' then 91 else 365 end) * interval '1 day' * (-0.7 * ln(greatest(pg_temp.u(32, key), 1e-12)))
                                                   - (case when m > a.active_count then interval '30 days' else interval '0 days' end)) as refreshed) r
            where c.status = 'PUBLISHED'
            order by c.id, m`,
        );
        // The summary mountService keeps on every directory, from the mounts it summarises.
        await client.query(
          `update resource_directory c set active_mount_count = s.active, data_volume = s.volume, last_refreshed_at = s.last
             from (select directory_id, count(*)::int as active, sum(record_count)::bigint as volume, max(last_refreshed_at) as last
                     from mount where active group by directory_id) s
            where c.id = s.directory_id`,
        );
        return result.rowCount ?? 0;
      },
    },
  ];
}

/**
 * The supervision steps (main items, sub-items, records and the sub-items'
 * record counters). Enabled once the supervision branch has landed: see
 * supervisionSteps in supervision-steps.ts.
 */
export type StepFactory = (scale: Scale, seed: number) => Step[];

/** Runs the steps in one session and prints a timing per step. */
export async function generate(client: Client, options: GenerateOptions, extraSteps: StepFactory[] = []): Promise<StepTiming[]> {
  const log = options.log ?? (() => {});
  await prepareSession(client, options.seed);
  const steps = [...foundationSteps(options.scale, options.seed), ...extraSteps.flatMap((factory) => factory(options.scale, options.seed))];
  const timings: StepTiming[] = [];
  const timed = async (step: string, run: () => Promise<number>) => {
    const start = performance.now();
    const rows = await run();
    const seconds = (performance.now() - start) / 1000;
    timings.push({ step, rows, seconds });
    log(`  ${step.padEnd(36)} ${String(rows).padStart(11)} rows  ${seconds.toFixed(1).padStart(7)} s`);
  };
  for (const step of steps) {
    await timed(step.name, async () => {
      await client.query('begin');
      try {
        const rows = await step.run(client);
        await client.query('commit');
        return rows;
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    });
  }
  await timed('vacuum analyze', async () => {
    await client.query('vacuum (analyze)');
    return 0;
  });
  return timings;
}

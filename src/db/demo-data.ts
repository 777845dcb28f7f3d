/**
 * The demo district: Yindu (殷都区), Anyang, Henan, with the departments and
 * counts of appendix 4 of its June 2023 report (published directories,
 * mounted directories, data volume), plus a few things every real district
 * has: drafts, a withdrawn directory, an unmounted dataset, stale data, a
 * department that has published nothing yet, and a neighbouring district;
 * and the supervision figures of appendix 5 (DEMO_SUPERVISION).
 */
export interface DemoDepartment {
  name: string;
  published: number;
  mounted: number;
  dataVolume: number;
  drafts?: number;
}

export const DEMO_REGIONS = [
  { code: '410000', name: '河南省' },
  { code: '410500', name: '安阳市' },
  { code: '410505', name: '殷都区' },
  { code: '410502', name: '文峰区' },
];

export const DEMO_DEPARTMENTS: Record<string, DemoDepartment[]> = {
  '410505': [
    { name: '殷都区教育局', published: 6, mounted: 6, dataVolume: 11593 },
    { name: '殷都区司法局', published: 6, mounted: 6, dataVolume: 27 },
    { name: '殷都区人社局', published: 15, mounted: 14, dataVolume: 579894, drafts: 2 },
    { name: '殷都区自然资源局', published: 5, mounted: 4, dataVolume: 9 },
    { name: '殷都区卫健委', published: 7, mounted: 5, dataVolume: 2643 },
    { name: '殷都区住建局', published: 9, mounted: 6, dataVolume: 41, drafts: 1 },
    { name: '殷都区民政局', published: 31, mounted: 8, dataVolume: 1354 },
    { name: '殷都区交通局', published: 10, mounted: 1, dataVolume: 233 },
    { name: '殷都区财政局', published: 0, mounted: 0, dataVolume: 0, drafts: 3 },
  ],
  '410502': [
    { name: '文峰区教育局', published: 4, mounted: 3, dataVolume: 8120 },
    { name: '文峰区民政局', published: 6, mounted: 2, dataVolume: 530 },
  ],
};

/** Typical directories of a district department, cycled through for names. */
export const DEMO_RESOURCE_NAMES = [
  '基本信息',
  '许可审批信息',
  '执法检查信息',
  '统计台账',
  '服务对象名录',
  '资金发放信息',
  '证照信息',
  '项目信息',
  '投诉举报信息',
  '机构名录',
  '人员信息',
  '设施信息',
];

/** Splits a total into `parts` whole numbers that add up to it, larger first. */
export function splitTotal(total: number, parts: number): number[] {
  if (parts === 0) return [];
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

/** Sub-items, covered sub-items and records of one category. */
export type DemoCategoryCounts = [items: number, covered: number, records: number];

/**
 * Supervision figures of Yindu departments as appendix 5 of the June 2023
 * report prints them: main items, covered main items, then inspection,
 * penalty, coercion and other sub-items.
 */
export interface DemoSupervision {
  name: string;
  mainItems: number;
  coveredMainItems: number;
  categories: [inspection: DemoCategoryCounts, penalty: DemoCategoryCounts, coercion: DemoCategoryCounts, other: DemoCategoryCounts];
}

export const DEMO_SUPERVISION: DemoSupervision[] = [
  {
    name: '区商务局',
    mainItems: 2,
    coveredMainItems: 2,
    categories: [
      [2, 2, 2],
      [7, 7, 7],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区医疗保障局',
    mainItems: 1,
    coveredMainItems: 1,
    categories: [
      [1, 1, 8],
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区司法局',
    mainItems: 7,
    coveredMainItems: 7,
    categories: [
      [7, 7, 17],
      [21, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区卫健委',
    mainItems: 29,
    coveredMainItems: 26,
    categories: [
      [28, 25, 26],
      [183, 168, 168],
      [20, 16, 16],
      [148, 136, 137],
    ],
  },
  {
    name: '区农业农村局',
    mainItems: 29,
    coveredMainItems: 15,
    categories: [
      [36, 11, 19],
      [29, 17, 17],
      [2, 1, 1],
      [1, 1, 2],
    ],
  },
  {
    name: '区林业局',
    mainItems: 6,
    coveredMainItems: 2,
    categories: [
      [8, 0, 0],
      [88, 14, 14],
      [12, 1, 1],
      [0, 0, 0],
    ],
  },
  {
    name: '区交通运输局',
    mainItems: 16,
    coveredMainItems: 3,
    categories: [
      [17, 0, 0],
      [34, 4, 102],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区市场监管局',
    mainItems: 96,
    coveredMainItems: 12,
    categories: [
      [160, 3, 3],
      [284, 33, 41],
      [19, 2, 2],
      [16, 0, 0],
    ],
  },
  {
    name: '区文广体旅局',
    mainItems: 60,
    coveredMainItems: 0,
    categories: [
      [77, 0, 0],
      [52, 0, 0],
      [1, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区民政局',
    mainItems: 3,
    coveredMainItems: 0,
    categories: [
      [3, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
  {
    name: '区金融办',
    mainItems: 1,
    coveredMainItems: 0,
    categories: [
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ],
  },
];

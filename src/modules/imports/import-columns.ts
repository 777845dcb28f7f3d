import { ResourceFormat, ShareMethod, ShareType, UpdateCycle } from '../catalogue/directory.entity';
import { SupervisionCategory } from '../supervision/supervision.entity';

/** What a bulk import registers. */
export enum ImportKind {
  DIRECTORIES = 'directories',
  SUPERVISION_ITEMS = 'supervision-items',
}

export const IMPORT_KINDS: readonly ImportKind[] = [ImportKind.DIRECTORIES, ImportKind.SUPERVISION_ITEMS];

/** A column of an import file: a header may be the Chinese label or the English key. */
export interface ImportColumn {
  key: string;
  label: string;
  required: boolean;
  /** Directory or main-item columns: may be left blank on the entity's later rows. */
  perEntity?: boolean;
  help: string;
  example: string;
}

/** Accepted spellings of enum values: the API's name or the Chinese term. */
export const RESOURCE_FORMAT_LABELS: Record<ResourceFormat, string> = {
  DATABASE: '数据库',
  SPREADSHEET: '电子表格',
  FILE: '文件',
  IMAGE: '图像',
  STREAM: '流媒体',
  API: '接口',
  OTHER: '其他',
};
export const SHARE_TYPE_LABELS: Record<ShareType, string> = { UNCONDITIONAL: '无条件共享', CONDITIONAL: '有条件共享', NOT_SHARED: '不予共享' };
export const SHARE_METHOD_LABELS: Record<ShareMethod, string> = {
  API: '接口调用',
  DATABASE_EXCHANGE: '库表交换',
  FILE_DOWNLOAD: '文件下载',
  ONLINE_QUERY: '在线查询',
};
export const UPDATE_CYCLE_LABELS: Record<UpdateCycle, string> = {
  REAL_TIME: '实时',
  DAILY: '每日',
  WEEKLY: '每周',
  MONTHLY: '每月',
  QUARTERLY: '每季度',
  YEARLY: '每年',
};
export const CATEGORY_LABELS: Record<SupervisionCategory, string> = { INSPECTION: '行政检查', PENALTY: '行政处罚', COERCION: '行政强制', OTHER: '其他' };

const choices = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([value, label]) => `${value} (${label})`)
    .join(', ');

/**
 * Directories: one row per information item (信息项); a directory's columns
 * are given on its first row and may be left blank on its other rows (if
 * repeated they must be the same).
 */
export const DIRECTORY_COLUMNS: ImportColumn[] = [
  {
    key: 'department_credit_code',
    label: '部门统一社会信用代码',
    required: true,
    perEntity: true,
    help: "The providing department's unified social credit code.",
    example: '11410505000000007J',
  },
  { key: 'code', label: '目录编码', required: true, help: 'Directory code, unique in the catalogue: the key of the import.', example: 'YD-MZ-001' },
  { key: 'name', label: '目录名称', required: true, perEntity: true, help: 'Directory name.', example: '殷都区低保对象信息' },
  { key: 'summary', label: '摘要', required: false, perEntity: true, help: 'Summary.', example: '城乡最低生活保障对象基本信息' },
  {
    key: 'classification',
    label: '资源分类',
    required: false,
    perEntity: true,
    help: 'Classification, e.g. 基础信息资源/人口.',
    example: '主题信息资源/社会保障',
  },
  { key: 'resource_format', label: '资源格式', required: true, perEntity: true, help: `One of ${choices(RESOURCE_FORMAT_LABELS)}.`, example: '数据库' },
  { key: 'share_type', label: '共享类型', required: true, perEntity: true, help: `One of ${choices(SHARE_TYPE_LABELS)}.`, example: '有条件共享' },
  {
    key: 'share_conditions',
    label: '共享条件',
    required: false,
    perEntity: true,
    help: 'Required unless the share type is unconditional.',
    example: '仅用于社会救助审核',
  },
  { key: 'share_method', label: '共享方式', required: false, perEntity: true, help: `One of ${choices(SHARE_METHOD_LABELS)}.`, example: '接口调用' },
  { key: 'open_to_public', label: '是否向社会开放', required: false, perEntity: true, help: '是/否 (or true/false); default 否.', example: '否' },
  { key: 'update_cycle', label: '更新周期', required: true, perEntity: true, help: `One of ${choices(UPDATE_CYCLE_LABELS)}.`, example: '每月' },
  { key: 'item_name', label: '信息项名称', required: true, help: 'Information item (field) name, unique within the directory.', example: '身份证号' },
  { key: 'item_data_type', label: '信息项数据类型', required: true, help: 'Data type, e.g. 字符型, 数值型, 日期型.', example: '字符型' },
  { key: 'item_description', label: '信息项描述', required: false, help: 'Description of the item.', example: '18位居民身份证号码' },
];

/**
 * Supervision items: one row per sub-item (子项); a main item's columns are
 * given on its first row and may be left blank on its other rows. A row
 * without sub-item columns registers only the main item.
 */
export const SUPERVISION_COLUMNS: ImportColumn[] = [
  {
    key: 'department_credit_code',
    label: '部门统一社会信用代码',
    required: true,
    help: "The department's unified social credit code.",
    example: '11410505000000007J',
  },
  { key: 'main_item_code', label: '主项编码', required: true, help: 'Main item code, unique within the department.', example: '330217001000' },
  { key: 'main_item_name', label: '主项名称', required: true, perEntity: true, help: 'Main item name.', example: '对食品生产经营活动的监督检查' },
  {
    key: 'legal_basis',
    label: '设定依据',
    required: true,
    perEntity: true,
    help: 'Legal basis (laws and regulations).',
    example: '《中华人民共和国食品安全法》第一百一十条',
  },
  {
    key: 'sub_item_code',
    label: '子项编码',
    required: false,
    help: 'Sub-item code, unique within the department; blank for a main item without sub-items.',
    example: '330217001001',
  },
  { key: 'sub_item_name', label: '子项名称', required: false, help: 'Sub-item name; required with a sub-item code.', example: '食品生产日常监督检查' },
  { key: 'category', label: '子项类别', required: false, help: `Required with a sub-item code: one of ${choices(CATEGORY_LABELS)}.`, example: '行政检查' },
];

export const COLUMNS: Record<ImportKind, ImportColumn[]> = {
  [ImportKind.DIRECTORIES]: DIRECTORY_COLUMNS,
  [ImportKind.SUPERVISION_ITEMS]: SUPERVISION_COLUMNS,
};

/** An enum value from its API name or Chinese label (case-insensitive for names); null if neither. */
export function enumValue<T extends string>(labels: Record<T, string>, text: string): T | null {
  const folded = text.normalize('NFKC');
  const upper = folded.trim().toUpperCase().replace(/[\s-]/g, '_');
  const term = labelForm(folded);
  for (const [value, label] of Object.entries(labels) as [T, string][]) {
    if (value === upper || labelForm(label) === term) return value;
  }
  return null;
}

/**
 * Characters written for one another in the terms of a label: 其它 and 其他
 * ("other") are both in common use.
 */
const LABEL_VARIANTS: [RegExp, string][] = [[/它/g, '他']];

/** A label as compared: full-width folded (NFKC, done by the caller), without white space (行政 检查), variant characters as one. */
function labelForm(text: string): string {
  return LABEL_VARIANTS.reduce((form, [variant, standard]) => form.replace(variant, standard), text.replace(/\s+/g, ''));
}

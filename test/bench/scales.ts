/**
 * The three sizes the benchmark runs at. Province is the design target of
 * docs/domain.md ("Scale"); city and district keep the same proportions
 * per department (10 directories, 7.5 main items, 30 sub-items, 1,000 records)
 * so that figures that must not grow with scale (SQL statements per request)
 * can be compared.
 */
export interface Scale {
  name: ScaleName;
  /** Cities (41xx00) under the province 410000; Anyang 410500 is always one. */
  cities: number;
  /** Districts (41xxyy) over all cities; Yindu 410505 is always one. */
  districts: number;
  departments: number;
  directories: number;
  mainItems: number;
  subItems: number;
  records: number;
  subscriptions: number;
}

export type ScaleName = 'district' | 'city' | 'province';

export const SCALES: Record<ScaleName, Scale> = {
  district: {
    name: 'district',
    cities: 1,
    districts: 1,
    departments: 60,
    directories: 600,
    mainItems: 450,
    subItems: 1_800,
    records: 60_000,
    subscriptions: 120,
  },
  city: {
    name: 'city',
    cities: 1,
    districts: 9,
    departments: 600,
    directories: 6_000,
    mainItems: 4_500,
    subItems: 18_000,
    records: 600_000,
    subscriptions: 1_200,
  },
  province: {
    name: 'province',
    cities: 18,
    districts: 160,
    departments: 10_000,
    directories: 100_000,
    mainItems: 75_000,
    subItems: 300_000,
    records: 10_000_000,
    subscriptions: 20_000,
  },
};

export function parseScale(value: string | undefined): Scale {
  if (!value || !(value in SCALES)) throw new Error(`--scale must be one of ${Object.keys(SCALES).join(', ')}; got "${value ?? ''}".`);
  return SCALES[value as ScaleName];
}

/** The regions every scale has, used by the scenarios: the province, Anyang and Yindu. */
export const PROVINCE_CODE = '410000';
export const CITY_CODE = '410500';
export const DISTRICT_CODE = '410505';

/** Reads `--name value` and `--flag` options. */
export function parseArgs(argv: string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}".`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) options.set(name, inline);
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) options.set(name, argv[++i]);
    else options.set(name, 'true');
  }
  return options;
}

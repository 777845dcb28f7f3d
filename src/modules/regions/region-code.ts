import { RegionLevel } from './region.entity';

/** Province-level prefixes of GB/T 2260 (the first two digits of every code). */
const PROVINCE_PREFIXES = new Set([
  '11',
  '12',
  '13',
  '14',
  '15',
  '21',
  '22',
  '23',
  '31',
  '32',
  '33',
  '34',
  '35',
  '36',
  '37',
  '41',
  '42',
  '43',
  '44',
  '45',
  '46',
  '50',
  '51',
  '52',
  '53',
  '54',
  '61',
  '62',
  '63',
  '64',
  '65',
  '71',
  '81',
  '82',
]);

export type RegionCodeCheck = { ok: true; level: RegionLevel } | { ok: false; reason: string };

/**
 * Reads a 6-digit GB/T 2260 code: digits 1-2 the province, 3-4 the city,
 * 5-6 the county-level unit, with trailing zeros for the higher levels.
 */
export function checkRegionCode(code: string): RegionCodeCheck {
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: `"${code}" is not a region code: it must be 6 digits (GB/T 2260), e.g. 410505.` };
  if (!PROVINCE_PREFIXES.has(code.slice(0, 2)))
    return { ok: false, reason: `"${code}" is not a region code: ${code.slice(0, 2)} is no province of GB/T 2260.` };
  if (code.endsWith('0000')) return { ok: true, level: RegionLevel.PROVINCE };
  if (code.endsWith('00')) return { ok: true, level: RegionLevel.CITY };
  if (code.slice(2, 4) === '00')
    return { ok: false, reason: `"${code}" is not a region code: a county-level code needs a city part (digits 3-4) other than 00.` };
  return { ok: true, level: RegionLevel.DISTRICT };
}

/**
 * The codes a region's parent may have, nearest first: a city sits under its
 * province; a district under its city, except the province-administered
 * county-level units (city part 90, e.g. 419001), which sit under the
 * grouping code XX9000 when it is registered, or else the province.
 */
export function possibleParentCodes(code: string, level: RegionLevel): string[] {
  const province = `${code.slice(0, 2)}0000`;
  if (level === RegionLevel.PROVINCE) return [];
  if (level === RegionLevel.CITY) return [province];
  if (code.slice(2, 4) === '90') return [`${code.slice(0, 4)}00`, province];
  return [`${code.slice(0, 4)}00`];
}

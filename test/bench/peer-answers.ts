import { SUPERVISION_CATEGORIES } from '../../src/modules/supervision/supervision.entity';
import { byteOrder, count, isoTime, percentText, ratio, unitStats, type Figures } from './answers';
import { CATALOGUE_TEXT, cataloguePage, districtRanking, provinceDashboard, type ReadScenario } from './scenarios';
import { CITY_CODE, DISTRICT_CODE, PROVINCE_CODE } from './scales';

/**
 * The three read scenarios as PostGraphile 4 asks them (the peer of `npm
 * run bench -- --peer postgraphile`), and small pure functions that bring
 * both answers to one shape: Mulu's answer as it is (less its opaque
 * cursor), the peer's mapped onto Mulu's field names. The peer reads the
 * same stored rows Mulu reads (region_figures, department_figures, the
 * directories, their departments, regions and active mounts) and returns
 * them as stored; what Mulu derives on the server (rates, percentages, the
 * `mounted` and `stale` flags, the ranking's order) the mapping derives here,
 * written again rather than imported from src/ so that a mistake in Mulu's
 * arithmetic shows up as a difference.
 */
export interface PeerRead {
  /** Mulu's scenario: its document, variables and floor. */
  scenario: ReadScenario;
  /** The same question as a PostGraphile document. */
  peer: { query: string; variables: Record<string, unknown> };
  /** Mulu's `data`, in the shape both are compared in. */
  fromMulu(data: any): unknown;
  /** The peer's `data` mapped onto Mulu's shape; `now` decides the clock-dependent `stale` flag. */
  fromPeer(data: any, now: Date): unknown;
}

/** The stored figure columns a dashboard shows (usage figures are not in the scenarios' documents). */
const FIGURE_FIELDS = [
  'publishedDirectories',
  'mountedDirectories',
  'dataVolume',
  'staleDirectories',
  'mainItems',
  'coveredMainItems',
  ...SUPERVISION_CATEGORIES.flatMap((c) => {
    const k = c.toLowerCase();
    return [`${k}Items`, `${k}Covered`, `${k}Records`];
  }),
  'subscriptionsMade',
  'subscriptionsReceived',
  'subscriptionsPending',
].join(' ');

interface PeerRegion {
  code: string;
  name: string;
  regionFigureByRegionCode: Figures | null;
  regionsByParentCode?: { nodes: PeerRegion[] };
}

/** A region of the peer's dashboard in Mulu's shape, its children (by code, as Mulu orders them) likewise. */
export function dashboardRegion(region: PeerRegion): Record<string, unknown> {
  return {
    code: region.code,
    name: region.name,
    ...unitStats(region.regionFigureByRegionCode),
    ...(region.regionsByParentCode ? { children: region.regionsByParentCode.nodes.map(dashboardRegion) } : {}),
  };
}

interface PeerDepartment {
  id: number;
  name: string;
  creditCode: string;
  departmentFigureByDepartmentId: Figures | null;
}

/**
 * The ranking by sub-item coverage, as Mulu defines it: units with sub-items
 * first, by covered / all sub-items (highest first, compared exactly), then
 * name, then credit code, both in byte order; ranks numbered 1, 2, 3... (no
 * shared places), none for units without sub-items.
 */
export function subCoverageRanking(departments: PeerDepartment[], first: number) {
  const rated = departments.map((department) => {
    const stats = unitStats(department.departmentFigureByDepartmentId);
    return { department, stats, num: stats.supervisionStats.coveredSubItems, den: stats.supervisionStats.subItems };
  });
  rated.sort((a, b) => {
    if ((a.den === 0) !== (b.den === 0)) return a.den === 0 ? 1 : -1;
    if (a.den !== 0) {
      const difference = BigInt(b.num) * BigInt(a.den) - BigInt(a.num) * BigInt(b.den);
      if (difference !== 0n) return difference > 0n ? 1 : -1;
    }
    return byteOrder(a.department.name, b.department.name) || byteOrder(a.department.creditCode, b.department.creditCode);
  });
  return rated.slice(0, first).map(({ department, stats, num, den }, i) => ({
    rank: den === 0 ? null : i + 1,
    rate: ratio(num, den),
    ratePercent: percentText(num, den),
    numerator: num,
    denominator: den,
    department: { name: department.name, creditCode: department.creditCode, ...stats },
  }));
}

interface PeerDirectory {
  code: string;
  name: string;
  status: string;
  shareType: string;
  updateCycle: string;
  publishedAt: string | null;
  activeMountCount: number;
  staleAfter: string | null;
  dataVolume: string;
  lastRefreshedAt: string | null;
  departmentByDepartmentId: { name: string; creditCode: string; regionByRegionCode: { code: string; name: string } };
  mountsByDirectoryId: { nodes: { kind: string; recordCount: string; lastRefreshedAt: string | null }[] };
}

/**
 * A directory of the peer's catalogue page in Mulu's shape: `mounted` is
 * published with an active mount, `stale` mounted and past its stored
 * `stale_after` (catalogue/staleness.ts), both derived here from the columns.
 */
export function catalogueNode(directory: PeerDirectory, now: Date) {
  const mounted = directory.status === 'PUBLISHED' && directory.activeMountCount > 0;
  const department = directory.departmentByDepartmentId;
  return {
    code: directory.code,
    name: directory.name,
    status: directory.status,
    shareType: directory.shareType,
    updateCycle: directory.updateCycle,
    publishedAt: isoTime(directory.publishedAt),
    mounted,
    stale: mounted && directory.staleAfter !== null && new Date(directory.staleAfter) < now,
    dataVolume: count(directory.dataVolume),
    lastRefreshedAt: isoTime(directory.lastRefreshedAt),
    department: { name: department.name, creditCode: department.creditCode, region: { ...department.regionByRegionCode } },
    mounts: directory.mountsByDirectoryId.nodes.map((m) => ({ kind: m.kind, recordCount: count(m.recordCount), lastRefreshedAt: isoTime(m.lastRefreshedAt) })),
  };
}

/** Mulu's catalogue page less its cursor: cursors are opaque and each server makes its own. */
export function withoutCursor(data: any): unknown {
  const { endCursor: _cursor, ...pageInfo } = data.directories.pageInfo;
  return { directories: { ...data.directories, pageInfo } };
}

const PEER_FIGURES = `{ ${FIGURE_FIELDS} }`;

export const peerReads: PeerRead[] = [
  {
    scenario: provinceDashboard,
    peer: {
      query: `query PeerProvinceDashboard($code: String!) {
        regionByCode(code: $code) { code name regionFigureByRegionCode ${PEER_FIGURES}
          regionsByParentCode(orderBy: CODE_ASC) { nodes { code name regionFigureByRegionCode ${PEER_FIGURES}
            regionsByParentCode(orderBy: CODE_ASC) { nodes { code name regionFigureByRegionCode ${PEER_FIGURES} } } } }
        }
      }`,
      variables: { code: PROVINCE_CODE },
    },
    fromMulu: (data) => data,
    fromPeer: (data) => ({ region: data.regionByCode ? dashboardRegion(data.regionByCode) : null }),
  },
  {
    scenario: districtRanking,
    // The district's own departments: a district has no regions below it, so these are every department Mulu ranks.
    peer: {
      query: `query PeerDistrictRanking($code: String!) {
        regionByCode(code: $code) { code name
          departmentsByRegionCode(orderBy: PRIMARY_KEY_ASC) { nodes { id name creditCode departmentFigureByDepartmentId ${PEER_FIGURES} } }
        }
      }`,
      variables: { code: DISTRICT_CODE },
    },
    fromMulu: (data) => data,
    fromPeer: (data) => {
      const region = data.regionByCode;
      if (!region) return { region: null };
      return { region: { code: region.code, name: region.name, departmentRanking: subCoverageRanking(region.departmentsByRegionCode.nodes, 500) } };
    },
  },
  {
    scenario: cataloguePage,
    // A department's region is the city or one of its districts: the regions below a city are one level deep.
    peer: {
      query: `query PeerCataloguePage($region: String!, $text: String!) {
        allResourceDirectories(first: 50, orderBy: PRIMARY_KEY_ASC, filter: {
          or: [{ name: { includesInsensitive: $text } }, { code: { includesInsensitive: $text } }]
          status: { notEqualTo: DRAFT }
          departmentByDepartmentId: { regionByRegionCode: { or: [{ code: { equalTo: $region } }, { parentCode: { equalTo: $region } }] } }
        }) {
          nodes {
            code name status shareType updateCycle publishedAt activeMountCount staleAfter dataVolume lastRefreshedAt
            departmentByDepartmentId { name creditCode regionByRegionCode { code name } }
            mountsByDirectoryId(condition: { active: true }, orderBy: PRIMARY_KEY_ASC) { nodes { kind recordCount lastRefreshedAt } }
          }
          pageInfo { hasNextPage }
        }
      }`,
      variables: { region: CITY_CODE, text: CATALOGUE_TEXT },
    },
    fromMulu: withoutCursor,
    fromPeer: (data, now) => ({
      directories: {
        edges: data.allResourceDirectories.nodes.map((node: PeerDirectory) => ({ node: catalogueNode(node, now) })),
        pageInfo: { hasNextPage: data.allResourceDirectories.pageInfo.hasNextPage },
      },
    }),
  },
];

import { graphql } from './graphql';

/** A unit's figures in one month, as the region page's units and the department page's months show them. */
export const FiguresFragment = graphql(`
  fragment Figures on ReportFigures {
    mount {
      publishedDirectories
      mountedDirectories
      dataVolume
      mountRatePercent
      staleDirectories
    }
    supervision {
      mainItems
      coveredMainItems
      mainCoverageRatePercent
      subItems
      coveredSubItems
      subCoverageRatePercent
      records
      byCategory {
        category
        subItems
        coveredSubItems
        records
      }
    }
    subscriptions {
      made
      received
      pending
    }
  }
`);

export const UnitFragment = graphql(
  `
    fragment Unit on ReportUnit {
      kind
      code
      name
      figures {
        ...Figures
      }
      change {
        mountRatePoints
        mainCoverageRatePoints
        subCoverageRatePoints
        subscriptionsMade
        subscriptionsReceived
        records
        dataVolume
        mountedDirectories
      }
      ranks {
        metric
        rank
        of
        below
      }
    }
  `,
  [FiguresFragment],
);

/**
 * A department's row in appendix 4, the ranking and the bars: its resource
 * figures, the three rates the ranking switches between, and its ranks.
 * The rows ask only for what they show (a province page holds a hundred of
 * each list; the whole Unit for each made the answer twice as large).
 */
export const RankedRowFragment = graphql(`
  fragment RankedRow on ReportUnit {
    code
    name
    figures {
      mount {
        publishedDirectories
        mountedDirectories
        dataVolume
        mountRatePercent
      }
      supervision {
        mainCoverageRatePercent
        subCoverageRatePercent
      }
    }
    ranks {
      metric
      rank
      of
      below
    }
  }
`);

/** A department's row in appendix 5: its supervision figures. */
export const SupervisionRowFragment = graphql(`
  fragment SupervisionRow on ReportUnit {
    code
    name
    figures {
      supervision {
        mainItems
        coveredMainItems
        mainCoverageRatePercent
        subCoverageRatePercent
        byCategory {
          category
          subItems
          coveredSubItems
          records
        }
      }
    }
  }
`);

/** Everything the region page shows, in one request. */
export const RegionPageQuery = graphql(
  `
    query RegionPage($code: String!, $period: String, $rows: Int, $belowNames: Int) {
      reportSnapshots {
        period
      }
      region(code: $code) {
        code
        name
        parent {
          code
          name
          parent {
            code
            name
          }
        }
        monthlyFigures {
          period
          figures {
            mount {
              mountRatePercent
            }
            supervision {
              mainCoverageRatePercent
              subCoverageRatePercent
            }
          }
        }
        report(period: $period, threshold: 0.6) {
          period
          source
          comparedTo
          threshold
          region {
            ...Unit
          }
          ranking(metric: MOUNT_RATE, first: $rows) {
            ...RankedRow
          }
          appendix4(first: $rows) {
            ...RankedRow
          }
          appendix5(first: $rows) {
            ...SupervisionRow
          }
          childRegions {
            ...Unit
          }
          belowThreshold(metrics: [MOUNT_RATE]) {
            metric
            departmentCount
            departments(first: $belowNames) {
              code
              name
            }
          }
        }
      }
    }
  `,
  [UnitFragment, RankedRowFragment, SupervisionRowFragment],
);

/**
 * The first departments of a region's ranking by one rate, asked when the page
 * switches its ranking to that rate: the page's own list holds the first by
 * mount rate only, and the first by another rate are others.
 */
export const RegionRankingQuery = graphql(
  `
    query RegionRanking($code: String!, $period: String, $metric: RankingMetric!, $rows: Int) {
      region(code: $code) {
        report(period: $period, threshold: 0.6) {
          ranking(metric: $metric, first: $rows) {
            ...RankedRow
          }
        }
      }
    }
  `,
  [RankedRowFragment],
);

/** The department page: its figures over the months and its to-do lists (the drill-down). */
export const DepartmentPageQuery = graphql(
  `
    query DepartmentPage($creditCode: String!) {
      reportSnapshots {
        period
      }
      department(creditCode: $creditCode) {
        creditCode
        name
        region {
          code
          name
        }
        mountStats {
          publishedDirectories
          mountedDirectories
          dataVolume
          mountRatePercent
          staleDirectories
        }
        supervisionStats {
          mainItems
          coveredMainItems
          mainCoverageRatePercent
          subItems
          coveredSubItems
          subCoverageRatePercent
          records
        }
        subscriptionStats {
          made
          received
          pending
        }
        monthlyFigures {
          period
          figures {
            ...Figures
          }
        }
        unmounted: directories(filter: { mounted: false }, first: 50) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              code
              name
              updateCycle
            }
          }
        }
        stale: directories(filter: { stale: true }, first: 50) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              code
              name
              updateCycle
              lastRefreshedAt
            }
          }
        }
        uncoveredMainItems: supervisionMainItems(filter: { covered: false }, first: 50) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              code
              name
            }
          }
        }
        uncoveredSubItems: supervisionSubItems(filter: { covered: false }, first: 50) {
          totalCount
          pageInfo {
            hasNextPage
            endCursor
          }
          edges {
            node {
              code
              name
              category
              mainItem {
                name
              }
            }
          }
        }
      }
    }
  `,
  [FiguresFragment],
);

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, demoRoles, download, request, token } from './api';
import { RateBars, RateLines } from './charts';
import type { ResultOf } from './graphql';
import { regionPage } from './early';
import { REGION_PAGE_ROWS } from './early-request';
import { DepartmentPageQuery, RegionPageQuery, RegionRankingQuery } from './queries';
import { href, parseRoute, type Route } from './route';
import './style.css';

type RegionPage = ResultOf<typeof RegionPageQuery>;
type Report = NonNullable<NonNullable<RegionPage['region']>['report']>;
type Unit = Report['region'];
/** A row of appendix 4 and of the rankings (the region's own Unit and its child regions' are wider). */
type RankedRow = Report['appendix4'][number];
/** A row of appendix 5. */
type SupervisionRow = Report['appendix5'][number];

const pct = (p: string | null | undefined) => (p == null ? '-' : `${p}%`);
const signed = (n: number | null | undefined) => (n == null ? '-' : n === 0 ? '持平' : `${n > 0 ? '+' : ''}${n}`);
/**
 * A change of a rate in percentage points with the two decimals of the rates beside it ("+0.50", not "+0.5"). The
 * API's number is the difference of two printed percentages, so it has at most two decimals, and toFixed(2) of the
 * double nearest to it gives them back.
 */
const points = (n: number | null | undefined) => (n == null ? '-' : n === 0 ? '持平' : `${n > 0 ? '+' : ''}${n.toFixed(2)}个百分点`);
const percentNumber = (p: string | null | undefined) => (p == null ? null : Number(p));

function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const on = () => setRoute(parseRoute());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function SignIn(props: { onSignIn: () => void; error?: string }) {
  const [roles, setRoles] = useState<{ role: string; label: string; token: string }[]>([]);
  const [text, setText] = useState('');
  useEffect(() => void demoRoles().then(setRoles), []);
  return (
    <main class="signin">
      <h1>目录 Mulu · 资源挂载与监管覆盖</h1>
      {props.error && <p class="error">{props.error}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          token.set(text);
          props.onSignIn();
        }}
      >
        <label>
          粘贴令牌 (Bearer token)
          <textarea data-testid="token-input" value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} rows={4} />
        </label>
        <button type="submit" disabled={!text.trim()}>
          登录
        </button>
      </form>
      {roles.length > 0 && (
        <section class="demo-roles">
          <h2>演示角色 (embedded demo)</h2>
          {roles.map((r) => (
            <button
              data-testid={`demo-${r.role}`}
              onClick={() => {
                token.set(r.token);
                props.onSignIn();
              }}
            >
              {r.label}
            </button>
          ))}
        </section>
      )}
    </main>
  );
}

function Card(props: { label: string; value: string; change: string; testId: string; detail?: string }) {
  return (
    <div class="card" data-testid={props.testId}>
      <div class="card-label">{props.label}</div>
      <div class="card-value" data-figure="value">
        {props.value}
      </div>
      {props.detail && <div class="card-detail">{props.detail}</div>}
      <div class="card-change" data-figure="change">
        {props.change}
      </div>
    </div>
  );
}

function Cards(props: { unit: Unit; comparedTo: string | null }) {
  const f = props.unit.figures;
  const c = props.unit.change;
  const since = props.comparedTo ? `较${props.comparedTo} ` : '';
  return (
    <section class="cards">
      <Card
        testId="card-mount"
        label="资源挂载率"
        value={pct(f.mount.mountRatePercent)}
        detail={`${f.mount.mountedDirectories}/${f.mount.publishedDirectories}`}
        change={c ? since + points(c.mountRatePoints) : '无对比'}
      />
      <Card
        testId="card-main"
        label="主项覆盖率"
        value={pct(f.supervision.mainCoverageRatePercent)}
        detail={`${f.supervision.coveredMainItems}/${f.supervision.mainItems}`}
        change={c ? since + points(c.mainCoverageRatePoints) : '无对比'}
      />
      <Card
        testId="card-sub"
        label="子项覆盖率"
        value={pct(f.supervision.subCoverageRatePercent)}
        detail={`${f.supervision.coveredSubItems}/${f.supervision.subItems}`}
        change={c ? since + points(c.subCoverageRatePoints) : '无对比'}
      />
      <Card
        testId="card-subscriptions"
        label="订阅量 / 被订阅量"
        value={`${f.subscriptions.made} / ${f.subscriptions.received}`}
        change={c ? `${since}${signed(c.subscriptionsMade)} / ${signed(c.subscriptionsReceived)}` : '无对比'}
      />
    </section>
  );
}

const CATEGORY = ['INSPECTION', 'PENALTY', 'COERCION', 'OTHER'] as const;
const CATEGORY_LABEL: Record<string, string> = { INSPECTION: '行政检查', PENALTY: '行政处罚', COERCION: '行政强制', OTHER: '其他' };

function rowLink(u: { code: string; name: string }, month: string | null) {
  return <a href={href({ kind: 'department', key: u.code, month })}>{u.name}</a>;
}

function Appendix4(props: { rows: RankedRow[]; total: Unit; month: string | null }) {
  const row = (u: RankedRow, name: preact.ComponentChild) => (
    <tr data-code={u.code}>
      <td>{name}</td>
      <td>{u.figures.mount.publishedDirectories}</td>
      <td>{u.figures.mount.mountedDirectories}</td>
      <td>{u.figures.mount.dataVolume}</td>
      <td>{pct(u.figures.mount.mountRatePercent)}</td>
    </tr>
  );
  return (
    <table data-testid="appendix4">
      <caption>附件4 资源发布情况</caption>
      <thead>
        <tr>
          <th>部门</th>
          <th>已发布资源目录数</th>
          <th>已挂载资源目录数</th>
          <th>资源数据总量</th>
          <th>资源挂载率</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((u) => row(u, rowLink(u, props.month)))}
        <tr class="total" data-code="total">
          {row(props.total, '合计').props.children}
        </tr>
      </tbody>
    </table>
  );
}

function Appendix5(props: { rows: SupervisionRow[]; total: Unit; month: string | null }) {
  const row = (u: SupervisionRow, name: preact.ComponentChild, cls?: string) => {
    const s = u.figures.supervision;
    return (
      <tr data-code={cls ? 'total' : u.code} class={cls}>
        <td>{name}</td>
        <td>{s.mainItems}</td>
        <td>{s.coveredMainItems}</td>
        <td>{pct(s.mainCoverageRatePercent)}</td>
        {CATEGORY.flatMap((c) => {
          const x = s.byCategory.find((b) => b.category === c)!;
          return [<td>{x.subItems}</td>, <td>{x.coveredSubItems}</td>, <td>{x.records}</td>];
        })}
        <td>{pct(s.subCoverageRatePercent)}</td>
      </tr>
    );
  };
  return (
    <table data-testid="appendix5">
      <caption>附件5 监管数据情况</caption>
      <thead>
        <tr>
          <th>部门</th>
          <th>主项数</th>
          <th>主项覆盖数</th>
          <th>主项覆盖率</th>
          {CATEGORY.flatMap((c) => [<th>{CATEGORY_LABEL[c]}子项数</th>, <th>{CATEGORY_LABEL[c]}子项覆盖数</th>, <th>{CATEGORY_LABEL[c]}汇聚数</th>])}
          <th>子项覆盖率</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((u) => row(u, rowLink(u, props.month)))}
        {row(props.total, '合计', 'total')}
      </tbody>
    </table>
  );
}

const METRICS = [
  { metric: 'MOUNT_RATE', label: '资源挂载率', rate: (f: RankedRow['figures']) => f.mount.mountRatePercent },
  { metric: 'MAIN_COVERAGE_RATE', label: '主项覆盖率', rate: (f: RankedRow['figures']) => f.supervision.mainCoverageRatePercent },
  { metric: 'SUB_COVERAGE_RATE', label: '子项覆盖率', rate: (f: RankedRow['figures']) => f.supervision.subCoverageRatePercent },
] as const;

type Metric = (typeof METRICS)[number]['metric'];

/**
 * A ranking by the rate picked. `units` are ranked by the first rate; with
 * `load`, they may be only the first rows of a longer list, and the first
 * rows by another rate are asked for when it is picked, once per rate (those
 * ranked first by one rate are not those ranked first by another); without
 * it `units` are every unit, sorted here by each rate's rank.
 */
function Ranking(props: {
  title: string;
  units: RankedRow[];
  testId: string;
  link?: (u: RankedRow) => preact.ComponentChild;
  threshold: number;
  load?: (metric: Metric) => Promise<RankedRow[]>;
}) {
  const [metric, setMetric] = useState<(typeof METRICS)[number]>(METRICS[0]);
  const [loaded, setLoaded] = useState<Partial<Record<Metric, RankedRow[] | ApiError>>>({});
  // Rates asked for and not yet answered: a second click while one loads sends nothing more.
  const asking = useRef(new Set<Metric>());
  const pick = (m: (typeof METRICS)[number]) => {
    setMetric(m);
    const load = props.load;
    const before = loaded[m.metric];
    // A ranking that failed is asked for again when its rate is picked again.
    if (!load || m === METRICS[0] || (before && !(before instanceof ApiError)) || asking.current.has(m.metric)) return;
    asking.current.add(m.metric);
    load(m.metric)
      .then(
        (rows) => setLoaded((all) => ({ ...all, [m.metric]: rows })),
        (error: ApiError) => setLoaded((all) => ({ ...all, [m.metric]: error })),
      )
      .finally(() => asking.current.delete(m.metric));
  };
  const units = props.load && metric !== METRICS[0] ? loaded[metric.metric] : props.units;
  const ranked = (units instanceof ApiError || !units ? [] : units)
    .map((u) => ({ u, r: u.ranks.find((r) => r.metric === metric.metric) }))
    .sort((a, b) => (a.r?.rank ?? Infinity) - (b.r?.rank ?? Infinity));
  return (
    <section class="ranking" data-testid={props.testId}>
      <h3>
        {props.title}
        {METRICS.map((m) => (
          <button class={m === metric ? 'on' : ''} data-metric={m.metric} onClick={() => pick(m)}>
            {m.label}
          </button>
        ))}
      </h3>
      {units instanceof ApiError && <p class="error">{units.message}</p>}
      {!units && <p class="loading">加载中…</p>}
      <table data-ready={units && !(units instanceof ApiError) ? metric.metric : undefined}>
        <thead>
          <tr>
            <th>名次</th>
            <th>名称</th>
            <th>{metric.label}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ranked.map(({ u, r }) => (
            <tr class={r?.below ? 'below' : ''} data-code={u.code}>
              <td>{r?.rank ?? '-'}</td>
              <td>{props.link ? props.link(u) : u.name}</td>
              <td>{pct(metric.rate(u.figures))}</td>
              <td>{r?.below ? `低于${props.threshold * 100}%` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function MonthPicker(props: { months: string[]; current: string | null; onPick: (m: string | null) => void }) {
  return (
    <label class="month">
      月份
      <select data-testid="month-picker" value={props.current ?? ''} onChange={(e) => props.onPick((e.target as HTMLSelectElement).value || null)}>
        <option value="">本月（实时）</option>
        {props.months.map((m) => (
          <option value={m}>{m}</option>
        ))}
      </select>
    </label>
  );
}

function Exports(props: { code: string; period: string }) {
  const [error, setError] = useState<string | null>(null);
  const link = (table: string, format: string, label: string) => {
    const path = `/reports/${props.code}/${props.period}/${table}.${format}`;
    return (
      <a href={path} data-export={`${table}.${format}`} onClick={(e) => (e.preventDefault(), download(path).catch((err: Error) => setError(err.message)))}>
        {label}
      </a>
    );
  };
  return (
    <p class="exports">
      导出：{link('resources', 'csv', '附件4 CSV')} {link('resources', 'xlsx', '附件4 XLSX')} {link('supervision', 'csv', '附件5 CSV')}{' '}
      {link('supervision', 'xlsx', '附件5 XLSX')}
      {error && <span class="error">{error}</span>}
    </p>
  );
}

/** Loads a page's data; refetches when the key changes. */
function useData<T>(load: () => Promise<T>, key: string): { data?: T; error?: ApiError } {
  const [state, setState] = useState<{ data?: T; error?: ApiError; key?: string }>({});
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, key }),
      (error: ApiError) => live && setState({ error, key }),
    );
    return () => void (live = false);
  }, [key]);
  return state.key === key ? state : {};
}

function RegionView(props: { route: Route; onAuthError: (e: ApiError) => void }) {
  const { route } = props;
  const { data, error } = useData(() => regionPage(route), href(route));
  useEffect(() => void (error && props.onAuthError(error)), [error]);
  // After the children's effects (the charts drawn): the moment the benchmark's page clock reads as ready.
  useEffect(() => void (data && performance.mark('mulu:ready')), [data]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">加载中…</p>;
  const region = data.region;
  if (!region || !region.report) return <p class="error">没有这个行政区划：{route.key}</p>;
  const report = region.report;
  const months = data.reportSnapshots.map((s) => s.period);
  const pick = (m: string | null) => (location.hash = href({ ...route, month: m }));
  const crumbs = [region.parent?.parent, region.parent].filter((r): r is { code: string; name: string } => !!r);
  const below = report.belowThreshold.find((b) => b.metric === 'MOUNT_RATE');
  const history = region.monthlyFigures;
  return (
    <main data-testid="region-page" data-ready="true">
      <nav class="crumbs">
        {crumbs.map((r) => (
          <a href={href({ kind: 'region', key: r.code, month: route.month })}>{r.name} › </a>
        ))}
        <strong>{region.name}</strong>
      </nav>
      <header>
        <h1 data-testid="title">
          {region.name}{' '}
          <small>
            {report.period}
            {report.source === 'LIVE' ? '（实时）' : ''}
          </small>
        </h1>
        <MonthPicker months={months} current={route.month} onPick={pick} />
      </header>
      <Cards unit={report.region} comparedTo={report.comparedTo} />
      {/* The live page exports the live figures: the month's snapshot, if one is captured, holds others. */}
      <Exports code={region.code} period={route.month ?? 'live'} />
      {report.childRegions.length > 0 && (
        <Ranking
          title="下级行政区划排名"
          testId="child-regions"
          units={report.childRegions}
          threshold={report.threshold}
          link={(u) => <a href={href({ kind: 'region', key: u.code, month: route.month })}>{u.name}</a>}
        />
      )}
      <Ranking
        key={href(route)}
        title="部门排名"
        testId="department-ranking"
        units={report.ranking}
        threshold={report.threshold}
        link={(u) => rowLink(u, route.month)}
        load={(metric) =>
          request(RegionRankingQuery, { code: route.key, period: route.month, metric, rows: REGION_PAGE_ROWS.rows }).then(
            (answer) => answer.region?.report.ranking ?? [],
          )
        }
      />
      {below && below.departmentCount > 0 && (
        <p class="below-list" data-testid="below-threshold">
          资源挂载率低于{report.threshold * 100}%的部门（<span data-figure="count">{below.departmentCount}</span>个）：
          {below.departments.map((d) => d.name).join('、')}
          {below.departmentCount > below.departments.length && `等（另有 ${below.departmentCount - below.departments.length} 个，见附件4导出）`}
        </p>
      )}
      <RateBars
        title="各部门资源挂载率"
        testId="bars"
        names={report.appendix4.slice(0, 40).map((u) => u.name)}
        percents={report.appendix4.slice(0, 40).map((u) => percentNumber(u.figures.mount.mountRatePercent))}
      />
      <RateLines
        testId="lines"
        months={history.map((m) => m.period)}
        lines={[
          { label: '资源挂载率', percents: history.map((m) => percentNumber(m.figures.mount.mountRatePercent)) },
          { label: '主项覆盖率', percents: history.map((m) => percentNumber(m.figures.supervision.mainCoverageRatePercent)) },
          { label: '子项覆盖率', percents: history.map((m) => percentNumber(m.figures.supervision.subCoverageRatePercent)) },
        ]}
      />
      <section class="appendix">
        <Appendix4 rows={report.appendix4} total={report.region} month={route.month} />
      </section>
      <section class="appendix">
        <Appendix5 rows={report.appendix5} total={report.region} month={route.month} />
      </section>
    </main>
  );
}

type DepartmentData = NonNullable<ResultOf<typeof DepartmentPageQuery>['department']>;

function Todo<T>(props: {
  title: string;
  testId: string;
  list: { totalCount: number; edges: { node: T }[] };
  columns: [string, (n: T) => preact.ComponentChild][];
}) {
  return (
    <section class="todo" data-testid={props.testId}>
      <h3>
        {props.title} <span data-figure="total">{props.list.totalCount}</span>
      </h3>
      {props.list.edges.length > 0 && (
        <table>
          <thead>
            <tr>
              {props.columns.map(([h]) => (
                <th>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.list.edges.map(({ node }) => (
              <tr>
                {props.columns.map(([, cell]) => (
                  <td>{cell(node)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.list.totalCount > props.list.edges.length && <p class="more">另有 {props.list.totalCount - props.list.edges.length} 项（通过 API 分页获取）</p>}
    </section>
  );
}

function DepartmentView(props: { route: Route; onAuthError: (e: ApiError) => void }) {
  const { route } = props;
  const { data, error } = useData(() => request(DepartmentPageQuery, { creditCode: route.key }), href(route));
  useEffect(() => void (error && props.onAuthError(error)), [error]);
  if (error) return <p class="error">{error.message}</p>;
  if (!data) return <p class="loading">加载中…</p>;
  const d: DepartmentData | null = data.department;
  if (!d) return <p class="error">没有这个部门：{route.key}</p>;
  const months = data.reportSnapshots.map((s) => s.period);
  const at = route.month ? d.monthlyFigures.find((m) => m.period === route.month) : undefined;
  const figures = at?.figures ?? { mount: d.mountStats, supervision: d.supervisionStats, subscriptions: d.subscriptionStats };
  return (
    <main data-testid="department-page" data-ready="true">
      <nav class="crumbs">
        <a href={href({ kind: 'region', key: d.region.code, month: route.month })}>{d.region.name}</a> › <strong>{d.name}</strong>
      </nav>
      <header>
        <h1 data-testid="title">
          {d.name} <small>{at ? at.period : '本月（实时）'}</small>
        </h1>
        <MonthPicker months={months} current={route.month} onPick={(m) => (location.hash = href({ ...route, month: m }))} />
      </header>
      <section class="cards">
        <Card
          testId="card-mount"
          label="资源挂载率"
          value={pct(figures.mount.mountRatePercent)}
          detail={`${figures.mount.mountedDirectories}/${figures.mount.publishedDirectories}`}
          change=""
        />
        <Card
          testId="card-main"
          label="主项覆盖率"
          value={pct(figures.supervision.mainCoverageRatePercent)}
          detail={`${figures.supervision.coveredMainItems}/${figures.supervision.mainItems}`}
          change=""
        />
        <Card
          testId="card-sub"
          label="子项覆盖率"
          value={pct(figures.supervision.subCoverageRatePercent)}
          detail={`${figures.supervision.coveredSubItems}/${figures.supervision.subItems}`}
          change=""
        />
        <Card testId="card-subscriptions" label="订阅量 / 被订阅量" value={`${figures.subscriptions.made} / ${figures.subscriptions.received}`} change="" />
      </section>
      <RateLines
        testId="lines"
        months={d.monthlyFigures.map((m) => m.period)}
        lines={[
          { label: '资源挂载率', percents: d.monthlyFigures.map((m) => percentNumber(m.figures.mount.mountRatePercent)) },
          { label: '主项覆盖率', percents: d.monthlyFigures.map((m) => percentNumber(m.figures.supervision.mainCoverageRatePercent)) },
          { label: '子项覆盖率', percents: d.monthlyFigures.map((m) => percentNumber(m.figures.supervision.subCoverageRatePercent)) },
        ]}
      />
      <h2>待办（当前数据）</h2>
      <Todo
        title="未挂载的已发布目录"
        testId="todo-unmounted"
        list={d.unmounted}
        columns={[
          ['目录编码', (n) => n.code],
          ['资源名称', (n) => n.name],
          ['更新周期', (n) => n.updateCycle],
        ]}
      />
      <Todo
        title="长期不更新的目录"
        testId="todo-stale"
        list={d.stale}
        columns={[
          ['目录编码', (n) => n.code],
          ['资源名称', (n) => n.name],
          ['最近更新', (n) => n.lastRefreshedAt?.slice(0, 10) ?? '-'],
        ]}
      />
      <Todo
        title="未覆盖的主项"
        testId="todo-main"
        list={d.uncoveredMainItems}
        columns={[
          ['主项编码', (n) => n.code],
          ['主项名称', (n) => n.name],
        ]}
      />
      <Todo
        title="未覆盖的子项"
        testId="todo-sub"
        list={d.uncoveredSubItems}
        columns={[
          ['子项编码', (n) => n.code],
          ['子项名称', (n) => n.name],
          ['类别', (n) => CATEGORY_LABEL[n.category]],
          ['所属主项', (n) => n.mainItem.name],
        ]}
      />
    </main>
  );
}

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(!!token.get());
  const [authError, setAuthError] = useState<string | undefined>();
  const onAuthError = (e: ApiError) => {
    if (e.code === 'UNAUTHENTICATED') {
      token.clear();
      setAuthError(e.message);
      setSignedIn(false);
    }
  };
  if (!signedIn) return <SignIn error={authError} onSignIn={() => (setAuthError(undefined), setSignedIn(true))} />;
  return (
    <>
      <div class="bar">
        <a href="#/region/410000">目录 Mulu</a>
        <button data-testid="sign-out" onClick={() => (token.clear(), setSignedIn(false))}>
          退出
        </button>
      </div>
      {route.kind === 'region' ? <RegionView route={route} onAuthError={onAuthError} /> : <DepartmentView route={route} onAuthError={onAuthError} />}
    </>
  );
}

render(<App />, document.getElementById('app')!);

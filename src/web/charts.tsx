import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2f6fdf', '#e0862b', '#3a9b5c'];

/** Bars of one rate per unit (percent), highest first as given; uPlot with its bars path builder. */
export function RateBars(props: { title: string; names: string[]; percents: (number | null)[]; testId: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current || props.names.length === 0) return;
    const xs = props.names.map((_, i) => i);
    const plot = new uPlot(
      {
        title: props.title,
        width: Math.max(360, Math.min(960, host.current.clientWidth || 720)),
        height: 260,
        scales: { x: { time: false, range: [-0.5, props.names.length - 0.5] }, y: { range: [0, 100] } },
        axes: [
          { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (props.names[i] ?? '').slice(0, 6) : '')), gap: 4, size: 40 },
          { values: (_u, splits) => splits.map((v) => `${v}%`) },
        ],
        legend: { show: false },
        series: [{}, { label: props.title, fill: COLORS[0], stroke: COLORS[0], paths: uPlot.paths.bars!({ size: [0.6, 40] }), points: { show: false } }],
      },
      [xs, props.percents.map((p) => p ?? 0)],
      host.current,
    );
    return () => plot.destroy();
  }, [props.names.join('|'), props.percents.join('|')]);
  return <div class="chart" data-testid={props.testId} ref={host} />;
}

/** Lines of a unit's rates over the captured months. */
export function RateLines(props: { months: string[]; lines: { label: string; percents: (number | null)[] }[]; testId: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current || props.months.length === 0) return;
    const plot = new uPlot(
      {
        title: '各月比率（已归档月份）',
        width: Math.max(360, Math.min(960, host.current.clientWidth || 720)),
        height: 240,
        scales: { x: { time: false }, y: { range: [0, 100] } },
        axes: [
          { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (props.months[i] ?? '') : '')) },
          { values: (_u, s) => s.map((v) => `${v}%`) },
        ],
        series: [{}, ...props.lines.map((l, i) => ({ label: l.label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true, size: 6 } }))],
      },
      [props.months.map((_, i) => i), ...props.lines.map((l) => l.percents.map((p) => p ?? null))] as uPlot.AlignedData,
      host.current,
    );
    return () => plot.destroy();
  }, [props.months.join('|'), JSON.stringify(props.lines)]);
  return <div class="chart" data-testid={props.testId} ref={host} />;
}

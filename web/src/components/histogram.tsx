import { Axis, BarSeries, Chart, LIGHT_THEME, Position, ScaleType, Settings } from '@elastic/charts';
import type { SearchAnswer } from '../api';

/** Matches over time; brushing a span zooms the time range to it. */
export function Histogram(props: { histogram: NonNullable<SearchAnswer['histogram']>; onZoom: (from: string, to: string) => void }) {
  const data = props.histogram.buckets.map((bucket) => ({ x: typeof bucket.key === 'number' ? bucket.key : Date.parse(bucket.key), y: bucket.count }));
  return (
    <div style={{ height: 140 }} data-test-subj="histogram">
      <Chart>
        <Settings
          baseTheme={LIGHT_THEME}
          showLegend={false}
          onBrushEnd={(brush) => {
            if (!('x' in brush) || brush.x === undefined) return;
            const [from, to] = brush.x;
            props.onZoom(new Date(from).toISOString(), new Date(to).toISOString());
          }}
        />
        <BarSeries id="matches" name="Matches" data={data} xScaleType={ScaleType.Time} yScaleType={ScaleType.Linear} xAccessor="x" yAccessors={['y']} />
        <Axis id="time" position={Position.Bottom} tickFormat={(value: number) => new Date(value).toLocaleString()} gridLine={{ visible: false }} />
        <Axis id="count" position={Position.Left} ticks={4} />
      </Chart>
    </div>
  );
}

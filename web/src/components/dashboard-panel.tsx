import { Axis, BarSeries, Chart, LegendValue, LIGHT_THEME, Position, ScaleType, Settings } from '@elastic/charts';
import {
  EuiBadge,
  EuiBasicTable,
  EuiButton,
  EuiCallOut,
  EuiCode,
  EuiFlexGroup,
  EuiFlexItem,
  EuiHealth,
  EuiIcon,
  EuiLoadingSpinner,
  EuiText,
  EuiTitle,
  type EuiBasicTableColumn,
} from '@elastic/eui';
import type { ReactNode } from 'react';
import type { Hit } from '../api';
import {
  formatChange,
  formatShare,
  isEmptyData,
  type CountsOverTimeData,
  type LatestEventsData,
  type MetricData,
  type PanelAnswer,
  type SystemHealth,
  type SystemHealthData,
  type TopValuesData,
  type Visualisation,
} from '../dashboards';
import { displayValue, fieldValue, formatInstant } from '../values';

const timeFormat = (value: number): string => new Date(value).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function CountsOverTime({ data }: { data: CountsOverTimeData }) {
  return (
    <div style={{ height: '100%', minHeight: 80 }} data-test-subj="countsOverTimeChart" data-total={data.total}>
      <Chart>
        <Settings baseTheme={LIGHT_THEME} showLegend legendPosition={Position.Right} legendValues={[LegendValue.Total]} />
        <BarSeries
          id="counts"
          name={(series) => String(series.splitAccessors.get('series') ?? 'Events')}
          data={data.points}
          xScaleType={ScaleType.Time}
          yScaleType={ScaleType.Linear}
          xAccessor="time"
          yAccessors={['count']}
          splitSeriesAccessors={['series']}
          stackAccessors={['time']}
        />
        <Axis id="time" position={Position.Bottom} tickFormat={timeFormat} gridLine={{ visible: false }} />
        <Axis id="count" position={Position.Left} ticks={4} tickFormat={(value: number) => (Number.isInteger(value) ? value.toLocaleString() : '')} />
      </Chart>
    </div>
  );
}

/** Words for a bucket's key where the field's own values would read as code: @signed's true / false. */
export function bucketLabel(field: string, value: unknown): string {
  if (field === '@signed' && (typeof value === 'boolean' || value === 'true' || value === 'false' || value === 1 || value === 0)) {
    return value === true || value === 'true' || value === 1 ? 'signed' : 'unsigned';
  }
  return displayValue(value);
}

function TopValues({ data, field, display }: { data: TopValuesData; field: string; display: 'bar' | 'table' }) {
  const rows = data.values.map((entry) => ({ value: bucketLabel(field, entry.value), count: entry.count, share: entry.share }));
  if (display === 'table') {
    const columns: EuiBasicTableColumn<(typeof rows)[number]>[] = [
      { field: 'value', name: 'Value', truncateText: true, render: (value: string) => <span title={value}>{value}</span> },
      { field: 'count', name: 'Count', align: 'right', width: '90px', render: (count: number) => count.toLocaleString() },
      { field: 'share', name: 'Share', align: 'right', width: '80px', render: (share: number) => formatShare(share) },
    ];
    return (
      <>
        {/* A fixed layout keeps Count and Share in view; a long value is cut with "…", whole on hover. */}
        <EuiBasicTable items={rows} columns={columns} tableLayout="fixed" compressed data-test-subj="topValuesTable" />
        {data.other > 0 && (
          <EuiText size="xs" color="subdued">
            {data.other.toLocaleString()} more in other values
          </EuiText>
        )}
      </>
    );
  }
  return (
    <div style={{ height: '100%', minHeight: 80 }} data-test-subj="topValuesChart" data-values={JSON.stringify(rows.map((row) => [row.value, row.count]))}>
      <Chart>
        <Settings baseTheme={LIGHT_THEME} rotation={90} showLegend={false} />
        <BarSeries id="values" name="Events" data={rows} xScaleType={ScaleType.Ordinal} yScaleType={ScaleType.Linear} xAccessor="value" yAccessors={['count']} />
        <Axis id="value" position={Position.Left} />
        <Axis id="count" position={Position.Bottom} ticks={4} tickFormat={(value: number) => (Number.isInteger(value) ? value.toLocaleString() : '')} />
      </Chart>
    </div>
  );
}

function Metric({ data }: { data: MetricData }) {
  const change = formatChange(data);
  const color = change.direction === 'up' ? 'success' : change.direction === 'down' ? 'danger' : 'subdued';
  const arrow = change.direction === 'up' ? '▲ ' : change.direction === 'down' ? '▼ ' : '';
  return (
    <EuiFlexGroup direction="column" alignItems="center" justifyContent="center" gutterSize="xs" style={{ height: '100%' }} data-test-subj="metric">
      <EuiFlexItem grow={false}>
        <EuiTitle size="l">
          <span data-test-subj="metricValue">{data.value.toLocaleString()}</span>
        </EuiTitle>
      </EuiFlexItem>
      <EuiFlexItem grow={false}>
        <EuiText size="s" color={color} data-test-subj="metricChange">
          {arrow}
          {change.text}
          {data.change !== null && <span style={{ opacity: 0.7 }}> · previous period {data.previous.toLocaleString()}</span>}
        </EuiText>
      </EuiFlexItem>
    </EuiFlexGroup>
  );
}

function LatestEvents({ data, columns }: { data: LatestEventsData; columns: string[] }) {
  const tableColumns: EuiBasicTableColumn<Hit>[] = [
    { name: 'system', width: '120px', truncateText: true, render: (hit: Hit) => <span title={hit.systemName ?? hit.system ?? '—'}>{hit.systemName ?? hit.system ?? '—'}</span> },
    ...columns.map(
      (name): EuiBasicTableColumn<Hit> => ({
        name,
        truncateText: true,
        ...(name === 'event_time' || name === '@received' ? { width: '190px' } : {}),
        render: (hit: Hit) => {
          const value = fieldValue(hit.source, name);
          // event_time is the event's own text; @received is MLog's instant, written as the console writes instants.
          const text = name === '@received' && typeof value === 'string' ? formatInstant(value) : displayValue(value);
          return <span title={text}>{text}</span>;
        },
      }),
    ),
  ];
  return <EuiBasicTable<Hit> items={data.hits} columns={tableColumns} itemId="id" tableLayout="fixed" compressed data-test-subj="latestEventsTable" />;
}

function SystemHealthTable({ data }: { data: SystemHealthData }) {
  const columns: EuiBasicTableColumn<SystemHealth>[] = [
    {
      name: 'System',
      truncateText: true,
      render: (system: SystemHealth) => {
        const text = system.name === '' || system.name === system.code ? system.code : `${system.name} (${system.code})`;
        return <span title={text}>{text}</span>;
      },
    },
    { field: 'status', name: 'Status', width: '110px', render: (status: string) => <EuiHealth color={status === 'active' ? 'success' : status === 'suspended' ? 'danger' : 'subdued'}>{status}</EuiHealth> },
    {
      field: 'last_event_received',
      name: 'Last event received',
      width: '190px',
      render: (at: string | null) => (at === null ? <EuiText size="xs" color="danger">never</EuiText> : formatInstant(at, 's')),
    },
    { field: 'events_per_hour', name: 'Events / hour', align: 'right', width: '110px', render: (value: number) => (Math.round(value * 10) / 10).toLocaleString() },
    { field: 'refusal_rate', name: 'Refusal rate', align: 'right', width: '100px', render: (rate: number) => formatShare(rate) },
    {
      field: 'declared_types_never_seen',
      name: 'Declared types never seen',
      render: (types: string[]) =>
        types.length === 0 ? (
          '—'
        ) : (
          <span>
            {types.map((type) => (
              <EuiBadge key={type} color="warning">
                {type}
              </EuiBadge>
            ))}
          </span>
        ),
    },
  ];
  return (
    <div style={{ overflowX: 'auto', maxWidth: '100%' }}>
      <EuiBasicTable<SystemHealth> items={data.systems} columns={columns} itemId="code" tableLayout="fixed" compressed data-test-subj="systemHealthTable" style={{ minWidth: 820 }} />
    </div>
  );
}

/** The body of one panel: its chart or table, the API's error for this panel alone, or "No events in this range". */
export function PanelBody({ visualisation, answer, loading, onStatePurpose }: { visualisation: Visualisation; answer: PanelAnswer | undefined; loading: boolean; onStatePurpose?: () => void }) {
  if (answer === undefined) {
    return (
      <EuiFlexGroup alignItems="center" justifyContent="center" style={{ height: '100%' }}>
        {loading ? <EuiLoadingSpinner size="l" /> : <EuiText size="s" color="subdued">Not shown yet</EuiText>}
      </EuiFlexGroup>
    );
  }
  if (answer.error !== undefined) {
    const locked = answer.error.status === 403 || answer.error.status === 428;
    return (
      <EuiCallOut size="s" color={locked ? 'warning' : 'danger'} iconType={locked ? 'lock' : 'error'} title={answer.error.message} data-test-subj="panelError" data-status={answer.error.status}>
        {answer.error.column !== undefined && <EuiText size="xs">At column <EuiCode>{answer.error.column}</EuiCode> of the query.</EuiText>}
        {answer.error.status === 428 && onStatePurpose !== undefined && (
          <EuiButton size="s" color="warning" iconType="pencil" onClick={onStatePurpose} data-test-subj="panelStatePurpose">
            State a purpose
          </EuiButton>
        )}
      </EuiCallOut>
    );
  }
  const data = answer.data;
  if (data === undefined || isEmptyData(visualisation, data)) {
    return (
      <EuiFlexGroup alignItems="center" justifyContent="center" direction="column" gutterSize="s" style={{ height: '100%' }} data-test-subj="panelEmpty">
        <EuiIcon type="visBarVertical" color="subdued" size="l" />
        <EuiText size="s" color="subdued">No events in this range</EuiText>
      </EuiFlexGroup>
    );
  }
  let body: ReactNode;
  switch (visualisation.kind) {
    case 'counts-over-time':
      body = <CountsOverTime data={data as CountsOverTimeData} />;
      break;
    case 'top-values':
      body = <TopValues data={data as TopValuesData} field={visualisation.field} display={visualisation.display} />;
      break;
    case 'metric':
      body = <Metric data={data as MetricData} />;
      break;
    case 'latest-events':
      body = <LatestEvents data={data as LatestEventsData} columns={visualisation.columns} />;
      break;
    case 'system-health':
      body = <SystemHealthTable data={data as SystemHealthData} />;
      break;
  }
  return <>{body}</>;
}

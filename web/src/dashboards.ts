/** Dashboards as the console API answers them (docs/console-api.md), and the pure rules of their editing. */
import type { Hit, Scope } from './api';
import { clampGrid, type Grid } from './dashboard-grid';

export * from './dashboard-grid';

export type Visualisation =
  | { kind: 'counts-over-time'; split_field?: string; top_n?: number }
  | { kind: 'top-values'; field: string; top_n: number; display: 'bar' | 'table' }
  | { kind: 'metric'; metric: 'count' }
  | { kind: 'metric'; metric: 'distinct'; field: string }
  | { kind: 'latest-events'; columns: string[]; size: number }
  | { kind: 'system-health' };

export type VisualisationKind = Visualisation['kind'];

export interface Panel {
  id: string;
  title: string;
  grid: Grid;
  scope: Scope;
  query: string;
  visualisation: Visualisation;
}

export interface Dashboard {
  id: string;
  title: string;
  description: string;
  time_range: { from: string; to: string };
  refresh_seconds: number;
  panels: Panel[];
  shipped?: boolean;
  updated_at?: string;
  updated_by?: string;
  version?: string;
}

export interface DashboardSummary {
  id: string;
  title: string;
  description: string;
  panel_count: number;
  shipped: boolean;
  updated_at: string;
  updated_by: string;
}

export interface CountsOverTimeData {
  interval: string;
  series: string[];
  points: { time: number; series: string; count: number }[];
  total: number;
}
export interface TopValuesData {
  total: number;
  values: { value: unknown; count: number; share: number }[];
  other: number;
}
export interface MetricData {
  value: number;
  previous: number;
  change: number | null;
}
export interface LatestEventsData {
  total: number;
  hits: Hit[];
}
export interface SystemHealth {
  code: string;
  name: string;
  status: string;
  last_event_received: string | null;
  events_per_hour: number;
  refusal_rate: number;
  declared_types_never_seen: string[];
}
export interface SystemHealthData {
  systems: SystemHealth[];
}
export type PanelData = CountsOverTimeData | TopValuesData | MetricData | LatestEventsData | SystemHealthData;

export interface PanelAnswer {
  id: string;
  data?: PanelData;
  error?: { status: number; message: string; column?: number };
}

export interface RenderAnswer {
  dashboard: { id: string; title: string };
  range: { from: string; to: string };
  panels: PanelAnswer[];
}

export interface ImportAnswer {
  imported: string[];
  skipped: string[];
}

export const VISUALISATION_LABELS: Record<VisualisationKind, string> = {
  'counts-over-time': 'Counts over time',
  'top-values': 'Top values',
  metric: 'Metric',
  'latest-events': 'Latest events',
  'system-health': 'System health',
};

/** The options a visualisation kind starts with when it is picked in the panel editor. */
export function defaultVisualisation(kind: VisualisationKind): Visualisation {
  switch (kind) {
    case 'counts-over-time':
      return { kind, split_field: '@is', top_n: 5 };
    case 'top-values':
      return { kind, field: 'event_type', top_n: 10, display: 'bar' };
    case 'metric':
      return { kind, metric: 'count' };
    case 'latest-events':
      return { kind, columns: ['event_time', 'event_type'], size: 20 };
    case 'system-health':
      return { kind };
  }
}

/** Whether the data of a panel has nothing to show ("No events in this range"). */
export function isEmptyData(visualisation: Visualisation, data: PanelData): boolean {
  switch (visualisation.kind) {
    case 'counts-over-time':
      return (data as CountsOverTimeData).total === 0;
    case 'top-values':
      return (data as TopValuesData).total === 0;
    case 'latest-events':
      return (data as LatestEventsData).hits.length === 0;
    case 'system-health':
      return (data as SystemHealthData).systems.length === 0;
    case 'metric':
      return false; // 0 is a number worth showing, with its change
  }
}

/** A fresh dashboard for the editor; the API makes its id from the title. */
export function emptyDashboard(title: string): Dashboard {
  return { id: '', title, description: '', time_range: { from: 'now-24h', to: 'now' }, refresh_seconds: 0, panels: [] };
}

/** A dashboard as it is sent back to the API: without the fields only answers carry, and with its version for a PUT. */
export function definitionOf(dashboard: Dashboard, withVersion: boolean): DashboardDefinition {
  const { shipped: _shipped, updated_at: _at, updated_by: _by, version, id, ...definition } = dashboard;
  const body: DashboardDefinition = { ...definition, panels: dashboard.panels.map((panel) => ({ ...panel, grid: clampGrid(panel.grid) })) };
  if (id !== '') body.id = id;
  if (withVersion && version !== undefined) body.version = version;
  return body;
}

export type DashboardDefinition = Omit<Dashboard, 'id' | 'shipped' | 'updated_at' | 'updated_by'> & { id?: string };

export const REFRESH_CHOICES = [
  { value: 0, text: 'Off' },
  { value: 10, text: 'Every 10 seconds' },
  { value: 30, text: 'Every 30 seconds' },
  { value: 60, text: 'Every minute' },
  { value: 300, text: 'Every 5 minutes' },
  { value: 900, text: 'Every 15 minutes' },
  { value: 3600, text: 'Every hour' },
];

import type { DashboardDefinition } from './dashboard.js';

/** The user MLog's own writes of its shipped dashboards are recorded under. */
export const SHIPPED_BY = 'mlog';

const everyEvent = { kind: 'events', systems: [] } as const;

/**
 * The dashboards MLog ships, installed at start when absent (an edited one is never overwritten; a
 * deleted one comes back at the next start).
 */
export const SHIPPED_DASHBOARDS: readonly DashboardDefinition[] = [
  {
    id: 'mlog-overview',
    title: 'MLog overview',
    description: 'Events per system, refused calls, signatures, personal-data accesses and the most frequent event types.',
    time_range: { from: 'now-24h', to: 'now' },
    refresh_seconds: 60,
    panels: [
      {
        id: 'events-per-system',
        title: 'Events per system',
        grid: { x: 0, y: 0, w: 12, h: 9 },
        scope: { ...everyEvent, systems: [] },
        query: '',
        visualisation: { kind: 'counts-over-time', split_field: '@is', top_n: 10 },
      },
      {
        id: 'refused-by-reason',
        title: 'Refused calls by reason',
        grid: { x: 0, y: 9, w: 6, h: 9 },
        scope: { kind: 'rejections' },
        query: '',
        visualisation: { kind: 'top-values', field: 'reason', top_n: 10, display: 'table' },
      },
      {
        id: 'signed-share',
        title: 'Signed vs unsigned',
        grid: { x: 6, y: 9, w: 6, h: 9 },
        scope: { ...everyEvent, systems: [] },
        query: '',
        visualisation: { kind: 'top-values', field: '@signed', top_n: 2, display: 'bar' },
      },
      {
        id: 'personal-data-by-legal-entity',
        title: 'PersonalData accesses by legal entity',
        grid: { x: 0, y: 18, w: 6, h: 9 },
        scope: { kind: 'personal-data' },
        query: '',
        visualisation: { kind: 'top-values', field: 'legal_entity', top_n: 10, display: 'bar' },
      },
      {
        id: 'personal-data-by-legal-basis',
        title: 'PersonalData accesses by legal basis',
        grid: { x: 6, y: 18, w: 6, h: 9 },
        scope: { kind: 'personal-data' },
        query: '',
        visualisation: { kind: 'top-values', field: 'legal_basis', top_n: 10, display: 'bar' },
      },
      {
        id: 'top-event-types',
        title: 'Top event types',
        grid: { x: 0, y: 27, w: 12, h: 10 },
        scope: { ...everyEvent, systems: [] },
        query: '',
        visualisation: { kind: 'top-values', field: 'event_type', top_n: 20, display: 'table' },
      },
    ],
  },
  {
    id: 'system-health',
    title: 'System health',
    description: 'Per system: the last event received, events per hour, the refusal rate and the declared event types never seen.',
    time_range: { from: 'now-24h', to: 'now' },
    refresh_seconds: 60,
    panels: [
      {
        id: 'health',
        title: 'Systems',
        grid: { x: 0, y: 0, w: 12, h: 10 },
        scope: { ...everyEvent, systems: [] },
        query: '',
        visualisation: { kind: 'system-health' },
      },
      {
        id: 'events-per-hour',
        title: 'Events per system over time',
        grid: { x: 0, y: 10, w: 12, h: 9 },
        scope: { ...everyEvent, systems: [] },
        query: '',
        visualisation: { kind: 'counts-over-time', split_field: '@is', top_n: 10 },
      },
    ],
  },
];

export const SHIPPED_IDS: ReadonlySet<string> = new Set(SHIPPED_DASHBOARDS.map((dashboard) => dashboard.id));

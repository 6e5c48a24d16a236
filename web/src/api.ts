import type { Dashboard, DashboardDefinition, DashboardSummary, ImportAnswer, Panel, PanelData, RenderAnswer } from './dashboards';

/** The console's only door to MLog: the JSON API under /console/api/ (docs/console-api.md). */

export type Role = 'viewer' | 'auditor' | 'administrator';

export interface Purpose {
  legal_basis: string;
  reason: string;
}

export interface Session {
  username: string;
  role: Role;
  csrfToken: string;
  purpose: Purpose | null;
  expiresAt: string;
}

export type Scope =
  | { kind: 'events'; systems?: string[] }
  | { kind: 'personal-data' }
  | { kind: 'rejections' }
  | { kind: 'audit' };

export interface Hit {
  index: string;
  id: string;
  system?: string;
  systemName?: string;
  source: Record<string, unknown>;
}

export interface FieldTop {
  name: string;
  top: { value: unknown; count: number; share: number }[];
}

export interface SearchAnswer {
  total: number;
  hits: Hit[];
  cursor?: string;
  histogram?: { interval: string; buckets: { key: number | string; count: number }[] };
  fields?: FieldTop[];
}

export interface SearchRequest {
  scope: Scope;
  query: string;
  from: string;
  to: string;
  columns?: string[];
  size?: number;
  after?: string;
  histogram?: boolean;
  fields?: boolean;
}

export type SignatureStatus = 'valid' | 'invalid' | 'unsigned' | 'certificate-not-registered';

export type EvidenceStatus = 'verified' | 'not-yet-checkpointed' | 'failed' | 'not-logged' | 'unavailable';

/** A stored event's evidence (docs/evidence.md): its hash, log position, receipt promise and inclusion proof checked now. */
export interface DocumentEvidence {
  status: EvidenceStatus;
  message: string;
  hash?: string;
  hashHolds?: boolean;
  log?: string;
  position?: number;
  receipt?: { uid: string; id: string; log: string; position: number; hash: string };
  checkpoint?: { seq: number; size: number; root: string; time: string; kid: string };
  leafHash?: string;
  auditPath?: string[];
}

export interface DocumentAnswer {
  hit: Hit;
  signature: { status: SignatureStatus; kid?: string; alg?: string };
  jws?: string;
  evidence: DocumentEvidence;
}

export interface CorrelationStep {
  hit: Hit;
  systemName: string;
  gapMs: number | null;
}

/** A registered information system, as the pickers list it (GET /systems). */
export interface SystemSummary {
  code: string;
  name: string;
  status: string;
}

export interface AdminAccount {
  username: string;
  role: Role;
  disabled: boolean;
  source: 'local' | 'oidc';
  createdAt: string;
}

export type AlertRuleType = 'threshold' | 'absence' | 'new-value' | 'refusals';
export type Comparator = '>' | '>=' | '<' | '<=';
export type RefusalCause = 'refused' | 'signature';

export type AlertChannel = { kind: 'webhook'; url: string; secret?: string; secret_set?: boolean } | { kind: 'email'; to: string[] };

/** An alert rule as MLog answers it (docs/console-api.md); webhook secrets are write-only. */
export interface AlertRule {
  id: string;
  name: string;
  enabled: boolean;
  schedule: string;
  type: AlertRuleType;
  params: Record<string, unknown>;
  channels: AlertChannel[];
  renotify_minutes: number;
  muted_until: string | null;
  managed?: { by: 'system'; system: string };
  state?: { active_groups: number; last_evaluated_to: string | null; last_fired_at: string | null };
  created_at?: string;
  created_by?: string;
  updated_at?: string;
  version?: string;
}

/** What the console sends to create or change a rule. */
export type AlertRuleInput = Omit<AlertRule, 'id' | 'state' | 'created_at' | 'created_by' | 'updated_at' | 'managed'> & { managed?: AlertRule['managed'] };

export interface AlertHistoryEntry {
  time: string;
  kind: 'fired' | 'recovered' | 'notified' | 'notification-failed';
  group?: string | null;
  value?: number | null;
  channel?: string;
  error?: string;
  events: { index: string; id: string }[];
}

export interface ActiveAlert {
  rule_id: string;
  rule_name: string;
  group?: string | null;
  state: 'active';
  since: string;
  value?: number | null;
}

/** An error answer of the API, with MLog's envelope and, for a query, the column. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly column?: number,
    readonly suggestions?: string[],
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

const API = `${import.meta.env.BASE_URL}api`;
let csrfToken: string | undefined;
const signedOutListeners = new Set<() => void>();

export function rememberCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when any call answers 401: the session has expired or was ended elsewhere. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken !== undefined) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'MLog cannot be reached. Check the connection and try again.');
  }
  if (response.ok) return response;
  const text = await response.text();
  let envelope: { message?: unknown; column?: unknown; suggestions?: unknown } = {};
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    // not JSON: the status line speaks for itself
  }
  const message = typeof envelope.message === 'string' ? envelope.message : `MLog answered ${response.status} ${response.statusText}.`;
  const error = new ApiError(
    response.status,
    message,
    typeof envelope.column === 'number' ? envelope.column : undefined,
    Array.isArray(envelope.suggestions) ? envelope.suggestions.map(String) : undefined,
    response.headers.get('Retry-After') ?? undefined,
  );
  if (response.status === 401 && !path.startsWith('/session')) for (const listener of signedOutListeners) listener();
  throw error;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const query = (parameters: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
};

const segment = encodeURIComponent;

export const api = {
  config: () => json<{ oidc: boolean }>('GET', '/config'),
  session: () => json<Session>('GET', '/session'),
  signIn: (username: string, password: string) => json<Session>('POST', '/session', { username, password }),
  signOut: () => json<void>('DELETE', '/session'),
  setPurpose: (purpose: Purpose) => json<Session>('PUT', '/session/purpose', purpose),
  oidcLoginUrl: () => `${API}/oidc/login`,

  search: (request: SearchRequest) => json<SearchAnswer>('POST', '/search', request),
  fields: (scope: Scope) => json<{ fields: { name: string; type: string }[] }>('GET', `/fields${query({ scope: JSON.stringify(scope) })}`),
  document: (index: string, id: string) => json<DocumentAnswer>('GET', `/documents/${segment(index)}/${segment(id)}`),
  surrounding: (index: string, id: string, size = 5) =>
    json<{ before: Hit[]; after: Hit[] }>('GET', `/documents/${segment(index)}/${segment(id)}/surrounding${query({ size })}`),
  correlation: (field: string, value: string) => json<{ steps: CorrelationStep[] }>('GET', `/correlation${query({ field, value })}`),
  /** The export as a streamed response; the caller reads its body. */
  exportFile: (request: { scope: Scope; query: string; from: string; to: string; format: 'csv' | 'ndjson'; columns?: string[] }) =>
    send('POST', '/export', request),
  audit: (parameters: { query: string; from: string; to: string; after?: string }) => json<SearchAnswer>('GET', `/audit${query(parameters)}`),

  systems: () => json<{ systems: SystemSummary[] }>('GET', '/systems'),

  admins: () => json<{ admins: AdminAccount[] }>('GET', '/admins'),
  addAdmin: (account: { username: string; role: Role; password: string }) => json<void>('POST', '/admins', account),
  changeAdmin: (username: string, change: { role?: Role; disabled?: boolean; password?: string }) =>
    json<void>('PATCH', `/admins/${segment(username)}`, change),

  alertRules: () => json<{ rules: AlertRule[] }>('GET', '/alert-rules'),
  alertRule: (id: string) => json<AlertRule>('GET', `/alert-rules/${segment(id)}`),
  addAlertRule: (rule: AlertRuleInput) => json<AlertRule>('POST', '/alert-rules', rule),
  changeAlertRule: (id: string, rule: AlertRuleInput) => json<AlertRule>('PUT', `/alert-rules/${segment(id)}`, rule),
  removeAlertRule: (id: string) => json<void>('DELETE', `/alert-rules/${segment(id)}`),
  muteAlertRule: (id: string, until: string) => json<AlertRule>('PUT', `/alert-rules/${segment(id)}/mute`, { until }),
  unmuteAlertRule: (id: string) => json<AlertRule>('DELETE', `/alert-rules/${segment(id)}/mute`),
  alertHistory: (id: string, parameters: { size?: number; after?: string } = {}) =>
    json<{ entries: AlertHistoryEntry[]; cursor?: string }>('GET', `/alert-rules/${segment(id)}/history${query(parameters)}`),
  activeAlerts: () => json<{ alerts: ActiveAlert[] }>('GET', '/alerts'),
  dashboards: () => json<{ dashboards: DashboardSummary[] }>('GET', '/dashboards'),
  dashboard: (id: string) => json<Dashboard>('GET', `/dashboards/${segment(id)}`),
  createDashboard: (dashboard: DashboardDefinition) => json<Dashboard>('POST', '/dashboards', dashboard),
  saveDashboard: (id: string, dashboard: DashboardDefinition) => json<Dashboard>('PUT', `/dashboards/${segment(id)}`, dashboard),
  copyDashboard: (id: string, title?: string) => json<Dashboard>('POST', `/dashboards/${segment(id)}/copy`, title === undefined ? {} : { title }),
  deleteDashboard: (id: string) => json<void>('DELETE', `/dashboards/${segment(id)}`),
  renderDashboard: (id: string, request: { from: string; to: string; refresh?: boolean }) => json<RenderAnswer>('POST', `/dashboards/${segment(id)}/render`, request),
  previewPanel: (request: { panel: Panel; from: string; to: string }) => json<{ data: PanelData }>('POST', '/dashboards/preview', request),
  /** An export file as a response whose body the caller saves: one dashboard, or every one without `id`. */
  exportDashboards: (id?: string) => send('GET', id === undefined ? '/dashboards/export' : `/dashboards/${segment(id)}/export`),
  importDashboards: (file: unknown, overwrite: boolean) => json<ImportAnswer>('POST', `/dashboards/import${query({ overwrite: String(overwrite) })}`, file),
};

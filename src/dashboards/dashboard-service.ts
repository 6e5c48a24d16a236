import { mayDo, type ConsoleActor } from '../admins/administrator.js';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { recordBeforeReading } from '../audit/record-before-reading.js';
import { ConflictError, ForbiddenError, InternalError, MLogError, NotFoundError, PreconditionRequiredError, QuerySyntaxError, StorageUnavailableError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import { parseTimeRange } from '../search/console-search-service.js';
import type { ConsoleHit, TimeRange } from '../search/console-search-store-type.js';
import type { InformationSystem } from '../systems/information-system.js';
import { idFromTitle, parsePanelQuery, uniqueId, validateDashboard, validatePanel, type Dashboard, type DashboardDefinition, type Panel } from './dashboard.js';
import type { CountsOverTime, DashboardDataStore, DashboardStore, StoredDashboard, SystemHealth, TopValues } from './dashboard-store-type.js';
import { SHIPPED_BY, SHIPPED_DASHBOARDS, SHIPPED_IDS } from './shipped-dashboards.js';

/** The event type of every opening (and preview) of a dashboard, in mlog_audit. */
export const DASHBOARD_VIEWED_EVENT_TYPE = 'MLog.Admin.DashboardViewed';
export const DASHBOARD_SAVED_EVENT_TYPE = 'MLog.Admin.DashboardSaved';
export const DASHBOARD_DELETED_EVENT_TYPE = 'MLog.Admin.DashboardDeleted';
export const DASHBOARDS_EXPORTED_EVENT_TYPE = 'MLog.Admin.DashboardsExported';
/** The format version of an export file ("mlog_dashboards": 1). */
export const EXPORT_FORMAT = 1;

export const VIEWER_SEES_AGGREGATES = 'A viewer sees aggregates only; the latest events take the auditor role.';

export interface DashboardSummary {
  id: string;
  title: string;
  description: string;
  panel_count: number;
  shipped: boolean;
  updated_at: string;
  updated_by: string;
}

export type PanelData =
  | CountsOverTime
  | TopValues
  | { value: number; previous: number; change: number | null }
  | { total: number; hits: (ConsoleHit & { systemName?: string })[] }
  | { systems: SystemHealth[] };

export interface PanelAnswer {
  id: string;
  data?: PanelData;
  error?: { status: number; message: string; column?: number; suggestions?: readonly string[] };
}

export interface RenderAnswer {
  dashboard: { id: string; title: string };
  range: { from: string; to: string };
  panels: PanelAnswer[];
}

export interface ExportFile {
  mlog_dashboards: typeof EXPORT_FORMAT;
  exported_at: string;
  dashboards: DashboardDefinition[];
}

/** Who changes dashboards: a console administrator (username) or the command line ("cli by <user>"). */
export interface Editor {
  user: string;
  /** What else the audit record carries (role, session, address). */
  details?: Record<string, string>;
}

/** The information systems as the health panel and the hits' names need them. */
export interface SystemList {
  list(): Promise<InformationSystem[]>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function definitionOf(stored: StoredDashboard): DashboardDefinition {
  const { id, title, description, time_range, refresh_seconds, panels } = stored;
  return { id, title, description, time_range, refresh_seconds, panels };
}

function answerOf(stored: StoredDashboard, version: string): Dashboard {
  return { ...definitionOf(stored), shipped: SHIPPED_IDS.has(stored.id), updated_at: stored.updated_at, updated_by: stored.updated_by, version };
}

function actorDetails(actor: ConsoleActor): Record<string, string> {
  return { admin_role: actor.role, session_id: actor.sessionId, source_address: actor.address };
}

/**
 * The console's dashboards: definitions kept in storage with a version each, rendering of their
 * panels as aggregations, export and import. Promises: a change made on a stale version is refused
 * (409, naming who changed it when); every panel answers on its own, so one failing panel never
 * fails a dashboard; a viewer never gets an event's contents; every opening is recorded in the audit
 * (MLog.Admin.DashboardViewed) before its answer is given, and when it cannot be recorded no data is
 * given (503); every change is recorded with who made it.
 */
export class DashboardService {
  constructor(
    private readonly store: DashboardStore,
    private readonly data: DashboardDataStore,
    private readonly audit: AuditLog,
    private readonly systems: SystemList,
    private readonly logger: Logger,
  ) {}

  /** Every dashboard, by title. */
  async list(): Promise<DashboardSummary[]> {
    const all = await this.store.list();
    return all
      .map(({ dashboard }) => ({
        id: dashboard.id,
        title: dashboard.title,
        description: dashboard.description,
        panel_count: dashboard.panels.length,
        shipped: SHIPPED_IDS.has(dashboard.id),
        updated_at: dashboard.updated_at,
        updated_by: dashboard.updated_by,
      }))
      .sort((a, b) => a.title.localeCompare(b.title, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id));
  }

  private async read(id: string): Promise<{ dashboard: StoredDashboard; version: string }> {
    const found = id.length <= 64 ? await this.store.get(id) : undefined;
    if (found === undefined) throw new NotFoundError(`There is no dashboard "${id.slice(0, 64)}".`);
    return found;
  }

  async get(id: string): Promise<Dashboard> {
    const { dashboard, version } = await this.read(id);
    return answerOf(dashboard, version);
  }

  private async takenIds(): Promise<Set<string>> {
    return new Set((await this.store.list()).map(({ dashboard }) => dashboard.id));
  }

  private checkQueries(definition: DashboardDefinition): void {
    definition.panels.forEach((panel, position) => this.checkPanel(panel, `panels[${position}]`));
  }

  /** Refuses a query the panel's scope cannot search (a wildcard on a text field…) with its column and the path. */
  private checkPanel(panel: Panel, path: string): void {
    if (panel.visualisation.kind === 'system-health') return;
    try {
      this.data.check(panel.scope, parsePanelQuery(panel.query, `${path}.query`));
    } catch (error) {
      if (error instanceof QuerySyntaxError && !error.message.startsWith(`${path}.query`)) {
        throw new QuerySyntaxError(`${path}.query: ${error.message}`, { column: error.column, expected: error.expected });
      }
      throw error;
    }
  }

  private async record(event: AuditEvent): Promise<void> {
    for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
    await this.audit.record(event, new Date(), { waitForSearch: false });
  }

  private async recordSaved(stored: StoredDashboard, action: string, editor: Editor): Promise<void> {
    await this.record({
      event_type: DASHBOARD_SAVED_EVENT_TYPE,
      event_message: `${editor.user} ${action} dashboard "${stored.title}" (${stored.id}).`,
      user: editor.user,
      action,
      dashboard_id: stored.id,
      dashboard_title: stored.title,
      panel_count: stored.panels.length,
      ...editor.details,
    });
  }

  /** POST /dashboards: 409 when the id is taken; without an id, one is made from the title. */
  async create(input: unknown, editor: Editor): Promise<Dashboard> {
    if (isRecord(input) && input.version !== undefined && input.version !== null) {
      throw new ValidationError('version is given only when changing a dashboard (PUT); a new dashboard has none.');
    }
    const taken = isRecord(input) && (input.id === undefined || input.id === null || input.id === '') ? await this.takenIds() : new Set<string>();
    const definition = validateDashboard(input, { idFor: (title) => uniqueId(idFromTitle(title), taken) });
    this.checkQueries(definition);
    return this.insert(definition, editor, 'created');
  }

  private async insert(definition: DashboardDefinition, editor: Editor, action: string): Promise<Dashboard> {
    const now = new Date().toISOString();
    const stored: StoredDashboard = { ...definition, created_at: now, created_by: editor.user, updated_at: now, updated_by: editor.user };
    if (!(await this.store.create(stored))) throw new ConflictError(`A dashboard with id "${definition.id}" already exists; choose another id, or change that dashboard.`);
    await this.recordSaved(stored, action, editor);
    return this.get(definition.id);
  }

  /** PUT /dashboards/<id>: the whole dashboard with the version it was read at; 409 when it changed since. */
  async update(id: string, input: unknown, editor: Editor): Promise<Dashboard> {
    const current = await this.read(id);
    if (!isRecord(input)) throw new ValidationError('The dashboard must be an object.');
    if (typeof input.version !== 'string' || input.version === '') {
      throw new ValidationError('version is required: give the "version" of the dashboard as you read it, so that a change made meanwhile is not overwritten.');
    }
    if (input.id !== undefined && input.id !== id) throw new ValidationError(`id is "${id}" and cannot be changed; copy the dashboard to give it another id.`);
    const definition = validateDashboard({ ...input, id });
    this.checkQueries(definition);
    const stored: StoredDashboard = {
      ...definition,
      created_at: current.dashboard.created_at,
      created_by: current.dashboard.created_by,
      updated_at: new Date().toISOString(),
      updated_by: editor.user,
    };
    const outcome = await this.store.replace(stored, input.version);
    if (outcome === 'missing') throw new NotFoundError(`There is no dashboard "${id}"; it was deleted meanwhile.`);
    if (outcome === 'stale') {
      const now = await this.store.get(id);
      const by = now === undefined ? 'someone' : now.dashboard.updated_by;
      const at = now === undefined ? 'a moment ago' : now.dashboard.updated_at;
      throw new ConflictError(`The dashboard "${id}" was changed by ${by} at ${at} since you opened it; open it again and make your change there.`);
    }
    await this.recordSaved(stored, 'updated', editor);
    return this.get(id);
  }

  /** POST /dashboards/<id>/copy: a new dashboard with a new id, titled "Copy of <title>" unless a title is given. */
  async copy(id: string, input: unknown, editor: Editor): Promise<Dashboard> {
    const { dashboard } = await this.read(id);
    const body = isRecord(input) ? input : {};
    const title = body.title === undefined || body.title === null || body.title === '' ? `Copy of ${dashboard.title}` : body.title;
    const taken = await this.takenIds();
    const definition = validateDashboard({ ...definitionOf(dashboard), id: undefined, title }, { idFor: (text) => uniqueId(idFromTitle(text), taken) });
    return this.insert(definition, editor, 'copied');
  }

  async remove(id: string, editor: Editor): Promise<void> {
    const { dashboard } = await this.read(id);
    if (!(await this.store.remove(id))) throw new NotFoundError(`There is no dashboard "${id}".`);
    await this.record({
      event_type: DASHBOARD_DELETED_EVENT_TYPE,
      event_message: `${editor.user} deleted dashboard "${dashboard.title}" (${id}).`,
      user: editor.user,
      dashboard_id: id,
      dashboard_title: dashboard.title,
      ...editor.details,
    });
  }

  /** POST /dashboards/<id>/render: every panel's data over from–to, each panel on its own; recorded before it is answered. */
  async render(actor: ConsoleActor, id: string, body: unknown, now = new Date()): Promise<RenderAnswer> {
    const input = isRecord(body) ? body : {};
    const range = parseTimeRange(input.from, input.to, now);
    if (input.refresh !== undefined && typeof input.refresh !== 'boolean') throw new ValidationError('refresh must be true or false.');
    const { dashboard } = await this.read(id);
    const viewed = { id: dashboard.id, title: dashboard.title, panelCount: dashboard.panels.length, range, refresh: input.refresh === true };
    const systems = this.systemsOnce();
    const panels = Promise.all(dashboard.panels.map((panel) => this.renderPanel(actor, panel, range, systems)));
    let rendered: Awaited<typeof panels>;
    if (dashboard.panels.some((panel) => panel.visualisation.kind === 'latest-events')) {
      // The record names how many events were shown, known once the panels are read.
      rendered = await panels;
      await this.recordViewed(actor, { ...viewed, eventsShown: rendered.reduce((sum, each) => sum + each.eventsShown, 0) });
    } else {
      // Aggregates only: nothing shown is an event, so the record is written while the panels are read
      // (and the answer still waits for both; no panel fails the render, so only the record can).
      [rendered] = await Promise.all([panels, this.recordViewed(actor, { ...viewed, eventsShown: 0 })]);
    }
    return {
      dashboard: { id: dashboard.id, title: dashboard.title },
      range: { from: new Date(range.fromMillis).toISOString(), to: new Date(range.toMillis).toISOString() },
      panels: rendered.map((each) => each.answer),
    };
  }

  /** POST /dashboards/preview: one panel not yet saved; a fault of the panel is the call's error (400 with its path). */
  async preview(actor: ConsoleActor, body: unknown, now = new Date()): Promise<{ data: PanelData }> {
    const input = isRecord(body) ? body : {};
    const panel = validatePanel(input.panel, 'panel');
    this.checkPanel(panel, 'panel');
    const range = parseTimeRange(input.from, input.to, now);
    const rendered = await this.renderPanel(actor, panel, range, this.systemsOnce());
    if (rendered.failure !== undefined) throw rendered.failure;
    if (rendered.answer.data === undefined) throw new InternalError(rendered.answer.error?.message ?? 'The panel could not be rendered.');
    await this.recordViewed(actor, { id: undefined, title: panel.title, panelCount: 1, range, refresh: false, eventsShown: rendered.eventsShown, preview: true });
    return { data: rendered.answer.data };
  }

  private async recordViewed(
    actor: ConsoleActor,
    viewed: { id: string | undefined; title: string; panelCount: number; range: TimeRange; refresh: boolean; eventsShown: number; preview?: boolean },
  ): Promise<void> {
    await recordBeforeReading(
      this.audit,
      {
        event_type: DASHBOARD_VIEWED_EVENT_TYPE,
        event_message: `${actor.username} (${actor.role}) ${viewed.preview === true ? 'previewed a panel' : `viewed dashboard "${viewed.title}"`}`,
        user: actor.username,
        ...actorDetails(actor),
        dashboard_id: viewed.id,
        dashboard_title: viewed.title,
        time_from: new Date(viewed.range.fromMillis).toISOString(),
        time_to: new Date(viewed.range.toMillis).toISOString(),
        refresh: viewed.refresh,
        panel_count: viewed.panelCount,
        events_shown: viewed.eventsShown,
        ...(viewed.preview === true ? { preview: true } : {}),
        ...(viewed.eventsShown > 0 && actor.purpose !== null ? { purpose_legal_basis: actor.purpose.legal_basis, purpose_reason: actor.purpose.reason } : {}),
      },
      {
        refusal: 'The opening of the dashboard could not be recorded in the audit trail, so its data is not shown; try again later.',
        warning: { logger: this.logger, message: 'dashboard view not recorded; its data is withheld' },
      },
    );
  }

  /** The registered systems, read at the first panel that needs them and shared by the render's other panels. */
  private systemsOnce(): () => Promise<InformationSystem[]> {
    let reading: Promise<InformationSystem[]> | undefined;
    return () => (reading ??= this.systems.list());
  }

  private async renderPanel(
    actor: ConsoleActor,
    panel: Panel,
    range: TimeRange,
    systems: () => Promise<InformationSystem[]>,
  ): Promise<{ answer: PanelAnswer; eventsShown: number; failure?: MLogError }> {
    try {
      const { data, eventsShown } = await this.panelData(actor, panel, range, systems);
      return { answer: { id: panel.id, data }, eventsShown };
    } catch (error) {
      const failure = error instanceof MLogError && error.status < 500 ? error : undefined;
      if (failure === undefined && !(error instanceof StorageUnavailableError)) this.logger.error('dashboard panel failed', { panel: panel.id, error: error instanceof Error ? error.stack : String(error) });
      const status = error instanceof MLogError ? error.status : 500;
      const message = error instanceof MLogError && status !== 500 ? error.message : 'This panel failed because of a defect of MLog; please report it to the MLog administrators.';
      const extra = error instanceof QuerySyntaxError ? { column: error.column, ...(error.suggestions === undefined ? {} : { suggestions: error.suggestions }) } : {};
      return { answer: { id: panel.id, error: { status, message, ...extra } }, eventsShown: 0, ...(error instanceof MLogError ? { failure: error } : {}) };
    }
  }

  private async panelData(actor: ConsoleActor, panel: Panel, range: TimeRange, systemsOnce: () => Promise<InformationSystem[]>): Promise<{ data: PanelData; eventsShown: number }> {
    const visualisation = panel.visualisation;
    if (visualisation.kind === 'system-health') {
      const systems = await systemsOnce();
      const health = await this.data.systemHealth(
        range,
        systems.map((system) => ({ code: system.code, name: system.name, status: system.status, event_types: system.event_types })),
      );
      return { data: { systems: health }, eventsShown: 0 };
    }
    if (visualisation.kind === 'latest-events') {
      if (!mayDo(actor.role, 'read-events')) throw new ForbiddenError(VIEWER_SEES_AGGREGATES);
      const purpose = actor.purpose;
      if (purpose === null || purpose.legal_basis.trim() === '' || purpose.reason.trim() === '') {
        throw new PreconditionRequiredError('State the purpose of your search first: a legal basis and a reason (PUT /console/api/session/purpose).');
      }
    }
    const known = await this.data.fieldNames(panel.scope);
    // A scope with no documents yet knows no field; its query is still read, and matches nothing.
    const query = parsePanelQuery(panel.query, 'query', known.length === 0 ? undefined : known);
    const request = { scope: panel.scope, query, range };
    switch (visualisation.kind) {
      case 'counts-over-time':
        return { data: await this.data.countsOverTime(request, visualisation.split_field === undefined ? undefined : { field: visualisation.split_field, topN: visualisation.top_n }), eventsShown: 0 };
      case 'top-values':
        return { data: await this.data.topValues(request, visualisation.field, visualisation.top_n), eventsShown: 0 };
      case 'metric': {
        const span = range.toMillis - range.fromMillis;
        const measure = visualisation.metric === 'count' ? { metric: 'count' as const } : { metric: 'distinct' as const, field: visualisation.field };
        const { value, previous } = await this.data.metric(request, measure, { fromMillis: range.fromMillis - span, toMillis: range.fromMillis });
        return { data: { value, previous, change: previous === 0 ? null : (value - previous) / previous }, eventsShown: 0 };
      }
      case 'latest-events': {
        const page = await this.data.latest(request, visualisation.columns, visualisation.size);
        const names = new Map((await systemsOnce()).map((system) => [system.code, system.name]));
        const hits = page.hits.map((hit) => {
          const name = hit.system === undefined ? undefined : names.get(hit.system);
          return name === undefined ? hit : { ...hit, systemName: name };
        });
        return { data: { total: page.total, hits }, eventsShown: hits.length };
      }
    }
  }

  /** The export file of the dashboards named (every dashboard when none is); 404 naming an unknown id. */
  async exportFile(ids: readonly string[] = []): Promise<ExportFile> {
    let chosen: StoredDashboard[];
    if (ids.length === 0) {
      chosen = (await this.store.list()).map(({ dashboard }) => dashboard).sort((a, b) => a.id.localeCompare(b.id));
    } else {
      chosen = [];
      for (const id of ids) chosen.push((await this.read(id)).dashboard);
    }
    return { mlog_dashboards: EXPORT_FORMAT, exported_at: new Date().toISOString(), dashboards: chosen.map(definitionOf) };
  }

  /** Records an export made by `editor` (the console's and the command line's). */
  async recordExport(file: ExportFile, editor: Editor): Promise<void> {
    await this.record({
      event_type: DASHBOARDS_EXPORTED_EVENT_TYPE,
      event_message: `${editor.user} exported ${file.dashboards.length} dashboard${file.dashboards.length === 1 ? '' : 's'}.`,
      user: editor.user,
      dashboard_ids: file.dashboards.map((dashboard) => dashboard.id),
      ...editor.details,
    });
  }

  /**
   * Imports an export file. Promises: every dashboard of the file is validated before any is written;
   * without `overwrite`, an id that exists is refused (409, naming it) and nothing is imported.
   */
  async importFile(file: unknown, overwrite: boolean, editor: Editor): Promise<{ imported: string[]; skipped: string[] }> {
    if (!isRecord(file)) throw new ValidationError('The import file must be a JSON object as `mlog dashboards export` writes it: {"mlog_dashboards": 1, "dashboards": […]}.');
    if (file.mlog_dashboards !== EXPORT_FORMAT) {
      throw new ValidationError(`mlog_dashboards must be ${EXPORT_FORMAT}: the file is not a dashboards export of MLog (or one of another format).`);
    }
    if (!Array.isArray(file.dashboards)) throw new ValidationError('dashboards must be a list of dashboards.');
    const definitions = file.dashboards.map((each, position) => {
      if (isRecord(each) && (each.id === undefined || each.id === null || each.id === '')) {
        throw new ValidationError(`dashboards[${position}].id is required in an import file.`);
      }
      const definition = validateDashboard(each, { path: `dashboards[${position}]` });
      definition.panels.forEach((panel, index) => {
        try {
          this.checkPanel(panel, `panels[${index}]`);
        } catch (error) {
          if (error instanceof QuerySyntaxError) throw new QuerySyntaxError(`dashboards[${position}].${error.message}`, { column: error.column, expected: error.expected });
          throw error;
        }
      });
      return definition;
    });
    const seen = new Set<string>();
    definitions.forEach((definition, position) => {
      if (seen.has(definition.id)) throw new ValidationError(`dashboards[${position}].id "${definition.id}" is given twice in the file.`);
      seen.add(definition.id);
    });
    const existing = await this.takenIds();
    const clashing = definitions.filter((definition) => existing.has(definition.id)).map((definition) => definition.id);
    if (!overwrite && clashing.length > 0) {
      throw new ConflictError(`The dashboard${clashing.length === 1 ? '' : 's'} ${clashing.map((id) => `"${id}"`).join(', ')} already exist${clashing.length === 1 ? 's' : ''}; nothing was imported. Import with overwrite to replace ${clashing.length === 1 ? 'it' : 'them'}.`);
    }
    const now = new Date().toISOString();
    for (const definition of definitions) {
      const stored: StoredDashboard = { ...definition, created_at: now, created_by: editor.user, updated_at: now, updated_by: editor.user };
      await this.store.put(stored);
      await this.recordSaved(stored, existing.has(definition.id) ? 'imported over' : 'imported', editor);
    }
    return { imported: definitions.map((definition) => definition.id), skipped: [] };
  }

  /** Installs each shipped dashboard that is absent; one that exists (edited or not) is left as it is. Answers the ids installed. */
  async installShipped(): Promise<string[]> {
    const installed: string[] = [];
    const now = new Date().toISOString();
    for (const definition of SHIPPED_DASHBOARDS) {
      if ((await this.store.get(definition.id)) !== undefined) continue;
      const stored: StoredDashboard = { ...structuredClone(definition), created_at: now, created_by: SHIPPED_BY, updated_at: now, updated_by: SHIPPED_BY };
      if (await this.store.create(stored)) installed.push(definition.id);
    }
    return installed;
  }
}

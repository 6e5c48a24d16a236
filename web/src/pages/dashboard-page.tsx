import {
  EuiBadge,
  EuiButton,
  EuiButtonEmpty,
  EuiButtonIcon,
  EuiCallOut,
  EuiFieldText,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFormRow,
  EuiIcon,
  EuiLink,
  EuiPageTemplate,
  EuiPanel,
  EuiSelect,
  EuiSpacer,
  EuiSuperDatePicker,
  EuiText,
  EuiTextArea,
  EuiTitle,
  EuiToolTip,
} from '@elastic/eui';
import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent, type ReactNode, type RefObject } from 'react';
import ReactGridLayout, { useContainerWidth, type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import 'react-resizable/css/styles.css';
import './dashboard-page.css';
import { api, ApiError } from '../api';
import { PanelBody } from '../components/dashboard-panel';
import { PanelFlyout } from '../components/panel-flyout';
import {
  applyLayout,
  defaultVisualisation,
  definitionOf,
  GRID_COLUMNS,
  MAX_PANEL_HEIGHT,
  MAX_PANELS,
  MIN_PANEL_HEIGHT,
  newPanelId,
  placeBelow,
  REFRESH_CHOICES,
  ROW_HEIGHT,
  VISUALISATION_LABELS,
  type Dashboard,
  type Panel,
  type PanelAnswer,
} from '../dashboards';
import { discoverParams } from '../discover-state';
import { dashboardHref, hrefOf, navigate } from '../router';
import { canRead, useSession } from '../session';
import { QUICK_RANGES, resolveRange } from '../time-range';
import { saveResponse } from '../download';

/** The part of a panel that decides its data: a panel whose key changed while editing is previewed instead of rendered. */
const dataKey = (panel: Panel): string => JSON.stringify([panel.scope, panel.query, panel.visualisation]);

/** The 12-column grid, as wide as the page; panels move by their handle and resize by their corner while editing. */
function DashboardGrid(props: { layout: Layout; editing: boolean; onLayoutChange: (layout: Layout) => void; children: ReactNode }) {
  const { width, containerRef, mounted } = useContainerWidth();
  return (
    <div ref={containerRef as RefObject<HTMLDivElement>} className={props.editing ? 'mlogDashboardGrid mlogEditing' : 'mlogDashboardGrid'} data-test-subj="dashboardGrid">
      {mounted && (
        <ReactGridLayout
          width={width}
          layout={props.layout}
          gridConfig={{ cols: GRID_COLUMNS, rowHeight: ROW_HEIGHT, margin: [12, 12], containerPadding: [0, 0] }}
          dragConfig={{ enabled: props.editing, handle: '.mlogPanelHandle', bounded: false }}
          resizeConfig={{ enabled: props.editing, handles: ['se'] }}
          onLayoutChange={props.onLayoutChange}
        >
          {props.children}
        </ReactGridLayout>
      )}
    </div>
  );
}

/** The latest events of a panel in Discover, for those who may read events. */
const discoverHref = (panel: Panel, from: string, to: string): string =>
  hrefOf('discover', discoverParams({ scope: panel.scope, query: panel.query, from, to, columns: panel.visualisation.kind === 'latest-events' ? panel.visualisation.columns : [] }));

/**
 * One dashboard: its panels on the 12-column grid over the chosen time range (kept in the address),
 * refreshed every refresh_seconds; administrators edit it in place (panels, layout, settings) and save
 * it with the version they opened, so a change made meanwhile by someone else is never overwritten.
 */
export function DashboardPage({ id, params }: { id: string; params: URLSearchParams }) {
  const { session, notify, askPurpose } = useSession();
  const administrator = session.role === 'administrator';
  const [dashboard, setDashboard] = useState<Dashboard | undefined>();
  const [loadError, setLoadError] = useState<ApiError | undefined>();
  const [answers, setAnswers] = useState<Record<string, PanelAnswer>>({});
  const [rendering, setRendering] = useState(false);
  const [renderError, setRenderError] = useState<ApiError | undefined>();
  const [draft, setDraft] = useState<Dashboard | undefined>();
  const [previews, setPreviews] = useState<Record<string, { key: string; answer: PanelAnswer }>>({});
  const [editing, setEditing] = useState<{ panel: Panel; isNew: boolean } | undefined>();
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [saveError, setSaveError] = useState<ApiError | undefined>();
  const [saving, setSaving] = useState(false);
  const [refreshSeconds, setRefreshSeconds] = useState<number | undefined>();
  const lastPress = useRef(0);

  const from = params.get('from') || dashboard?.time_range.from || 'now-24h';
  const to = params.get('to') || dashboard?.time_range.to || 'now';
  const range = useMemo(() => resolveRange(from, to), [from, to, rendering]);
  const interval = refreshSeconds ?? dashboard?.refresh_seconds ?? 0;
  const shown = draft ?? dashboard;

  const load = useCallback(() => {
    setLoadError(undefined);
    api.dashboard(id).then(
      (answer) => {
        setDashboard(answer);
        setDraft(params.get('edit') === '1' && administrator ? answer : undefined);
      },
      (caught: unknown) => setLoadError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message)),
    );
  }, [id]);
  useEffect(load, [load]);

  const render = useCallback(
    async (refresh: boolean) => {
      const resolved = resolveRange(from, to);
      if (dashboard === undefined || resolved === undefined) return;
      setRendering(true);
      try {
        const answer = await api.renderDashboard(dashboard.id, { from: resolved.from, to: resolved.to, refresh });
        setAnswers(Object.fromEntries(answer.panels.map((panel) => [panel.id, panel])));
        setRenderError(undefined);
      } catch (caught) {
        setRenderError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
      } finally {
        setRendering(false);
      }
    },
    [dashboard?.id, dashboard?.version, from, to],
  );

  useEffect(() => {
    void render(false);
  }, [render]);

  // While editing, a panel that is new or whose scope, query or visualisation changed shows its preview.
  const savedKeys = useMemo(() => new Map((dashboard?.panels ?? []).map((panel) => [panel.id, dataKey(panel)])), [dashboard]);
  const changed = (draft?.panels ?? []).filter((panel) => savedKeys.get(panel.id) !== dataKey(panel));
  const changedKey = JSON.stringify(changed.map((panel) => [panel.id, dataKey(panel)]));
  useEffect(() => {
    if (range === undefined) return;
    for (const panel of changed) {
      const key = dataKey(panel);
      if (previews[panel.id]?.key === key) continue;
      api.previewPanel({ panel, from: range.from, to: range.to }).then(
        (answer) => setPreviews((all) => ({ ...all, [panel.id]: { key, answer: { id: panel.id, data: answer.data } } })),
        (caught: unknown) => {
          const error = caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message);
          setPreviews((all) => ({ ...all, [panel.id]: { key, answer: { id: panel.id, error: { status: error.status, message: error.message, column: error.column } } } }));
        },
      );
    }
  }, [changedKey, range?.from, range?.to]);

  const answerOf = (panel: Panel): PanelAnswer | undefined => {
    if (draft !== undefined && savedKeys.get(panel.id) !== dataKey(panel)) {
      const preview = previews[panel.id];
      return preview?.key === dataKey(panel) ? preview.answer : undefined;
    }
    return answers[panel.id];
  };

  const setTime = (start: string, end: string) => {
    const next: Record<string, string | undefined> = { from: start, to: end };
    if (draft !== undefined) next.edit = '1';
    navigate(dashboardHref(id, next));
  };

  const startEditing = () => {
    setSaveError(undefined);
    setDraft(dashboard);
  };

  /** Out of editing, the address no longer says ?edit=1 (a reload or a shared link then opens the dashboard to view). */
  const leaveEditAddress = () => {
    if (params.get('edit') !== '1') return;
    navigate(dashboardHref(id, { from: params.get('from') ?? undefined, to: params.get('to') ?? undefined }), true);
  };

  const cancel = () => {
    setDraft(undefined);
    setSaveError(undefined);
    setPreviews({});
    leaveEditAddress();
  };

  const save = async () => {
    if (draft === undefined) return;
    setSaving(true);
    setSaveError(undefined);
    try {
      const saved = await api.saveDashboard(draft.id, definitionOf(draft, true));
      setDashboard(saved);
      setDraft(undefined);
      setPreviews({});
      leaveEditAddress();
      notify(`“${saved.title}” saved`, undefined, 'success');
    } catch (caught) {
      setSaveError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
    } finally {
      setSaving(false);
    }
  };

  const reload = () => {
    setDraft(undefined);
    setPreviews({});
    setSaveError(undefined);
    load();
  };

  const exportOne = async () => {
    try {
      await saveResponse(await api.exportDashboards(id), `mlog-dashboard-${id}.json`);
    } catch (caught) {
      notify('The export failed', (caught as Error).message);
    }
  };

  const onLayoutChange = (layout: Layout) => {
    setDraft((current) => {
      if (current === undefined) return current;
      const panels = applyLayout(current.panels, layout);
      return panels.every((panel, index) => panel === current.panels[index]) ? current : { ...current, panels };
    });
  };

  const applyPanel = (panel: Panel) => {
    setDraft((current) => {
      if (current === undefined) return current;
      const exists = current.panels.some((each) => each.id === panel.id);
      return { ...current, panels: exists ? current.panels.map((each) => (each.id === panel.id ? panel : each)) : [...current.panels, panel] };
    });
    setEditing(undefined);
  };

  const removePanel = (panelId: string) => setDraft((current) => (current === undefined ? current : { ...current, panels: current.panels.filter((panel) => panel.id !== panelId) }));

  const addPanel = () => {
    if (draft === undefined) return;
    const panelId = newPanelId(draft.panels);
    setEditing({
      isNew: true,
      panel: { id: panelId, title: '', grid: placeBelow(draft.panels), scope: { kind: 'events' }, query: '', visualisation: defaultVisualisation('counts-over-time') },
    });
  };

  if (loadError !== undefined) {
    return (
      <EuiPageTemplate.EmptyPrompt
        iconType={loadError.status === 404 ? 'dashboardApp' : 'error'}
        color={loadError.status === 404 ? 'plain' : 'danger'}
        title={<h2>{loadError.status === 404 ? 'No such dashboard' : 'The dashboard cannot be opened'}</h2>}
        body={<p>{loadError.message}</p>}
        actions={<EuiButton onClick={() => navigate(hrefOf('dashboards'))}>All dashboards</EuiButton>}
        data-test-subj="dashboardLoadError"
      />
    );
  }
  if (shown === undefined) return <EuiPageTemplate.EmptyPrompt title={<h2>Opening the dashboard…</h2>} />;

  const layout: Layout = shown.panels.map((panel) => ({ i: panel.id, ...panel.grid, minH: MIN_PANEL_HEIGHT, maxH: MAX_PANEL_HEIGHT }));
  const knownSystems = [...new Set(Object.values(answers).flatMap((answer) => (answer.data !== undefined && 'systems' in answer.data ? answer.data.systems.map((system) => system.code) : [])))];

  return (
    <div data-test-subj="dashboardPage" data-editing={draft !== undefined}>
      <EuiFlexGroup gutterSize="s" alignItems="center" responsive={false} wrap>
        <EuiFlexItem grow={false}>
          <EuiButtonIcon iconType="chevronSingleLeft" aria-label="All dashboards" href={hrefOf('dashboards')} onClick={(event: MouseEvent) => (event.preventDefault(), navigate(hrefOf('dashboards')))} />
        </EuiFlexItem>
        <EuiFlexItem grow={false}>
          <EuiTitle size="m">
            <h1 data-test-subj="dashboardTitle">{shown.title}</h1>
          </EuiTitle>
        </EuiFlexItem>
        {shown.shipped === true && (
          <EuiFlexItem grow={false}>
            <EuiBadge color="hollow">shipped with MLog</EuiBadge>
          </EuiFlexItem>
        )}
        {draft !== undefined && (
          <EuiFlexItem grow={false}>
            <EuiBadge color="accent">editing</EuiBadge>
          </EuiFlexItem>
        )}
        <EuiFlexItem />
        <EuiFlexItem grow={false}>
          <div
            onMouseDownCapture={() => (lastPress.current = Date.now())}
            onKeyDownCapture={() => (lastPress.current = Date.now())}
          >
            <EuiSuperDatePicker
              start={from}
              end={to}
              commonlyUsedRanges={QUICK_RANGES}
              onTimeChange={({ start, end }) => setTime(start, end)}
              onRefresh={() => void render(Date.now() - lastPress.current > 1000)}
              isPaused={interval === 0 || draft !== undefined}
              refreshInterval={Math.max(interval, 10) * 1000}
              onRefreshChange={({ isPaused, refreshInterval }) => setRefreshSeconds(isPaused ? 0 : Math.max(10, Math.round(refreshInterval / 1000)))}
              isLoading={rendering}
              data-test-subj="datePicker"
            />
          </div>
        </EuiFlexItem>
        {administrator && draft === undefined && (
          <>
            <EuiFlexItem grow={false}>
              <EuiButtonEmpty iconType="export" onClick={() => void exportOne()} data-test-subj="exportDashboard">
                Export
              </EuiButtonEmpty>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiButton iconType="pencil" onClick={startEditing} data-test-subj="editDashboard">
                Edit
              </EuiButton>
            </EuiFlexItem>
          </>
        )}
        {draft !== undefined && (
          <>
            <EuiFlexItem grow={false}>
              <EuiButtonEmpty iconType="gear" onClick={() => setSettingsOpen(!settingsOpen)} data-test-subj="dashboardSettings">
                Settings
              </EuiButtonEmpty>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiButton iconType="plusCircle" onClick={addPanel} disabled={draft.panels.length >= MAX_PANELS} data-test-subj="addPanel">
                Add a panel
              </EuiButton>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiButtonEmpty onClick={cancel} data-test-subj="cancelEdit">
                Cancel
              </EuiButtonEmpty>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiButton fill iconType="save" isLoading={saving} onClick={() => void save()} data-test-subj="saveDashboard">
                Save
              </EuiButton>
            </EuiFlexItem>
          </>
        )}
      </EuiFlexGroup>
      {shown.description !== '' && draft === undefined && (
        <EuiText size="s" color="subdued">
          <p>{shown.description}</p>
        </EuiText>
      )}
      {range === undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color="danger" title="The time range is not valid: choose it again in the date picker." />
        </>
      )}
      {renderError !== undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color={renderError.status === 503 ? 'warning' : 'danger'} iconType="error" title={renderError.message} data-test-subj="renderError" />
        </>
      )}
      {saveError !== undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color="danger" iconType="error" title={saveError.message} data-test-subj="saveError">
            {saveError.status === 409 && (
              <EuiButton size="s" color="danger" onClick={reload} data-test-subj="reloadDashboard">
                Reload the saved dashboard (your changes are discarded)
              </EuiButton>
            )}
          </EuiCallOut>
        </>
      )}
      {draft !== undefined && settingsOpen && (
        <>
          <EuiSpacer size="s" />
          <EuiPanel hasBorder paddingSize="m" data-test-subj="settingsPanel">
            <EuiFlexGroup gutterSize="m" wrap>
              <EuiFlexItem style={{ minWidth: 260 }}>
                <EuiFormRow label="Title">
                  <EuiFieldText value={draft.title} onChange={(event) => setDraft({ ...draft, title: event.target.value })} data-test-subj="settingsTitle" />
                </EuiFormRow>
              </EuiFlexItem>
              <EuiFlexItem style={{ minWidth: 260 }}>
                <EuiFormRow label="Description">
                  <EuiTextArea rows={1} value={draft.description} onChange={(event) => setDraft({ ...draft, description: event.target.value })} data-test-subj="settingsDescription" />
                </EuiFormRow>
              </EuiFlexItem>
              <EuiFlexItem grow={false}>
                <EuiFormRow label="Default time range" helpText="What the dashboard opens with: now-24h, now-7d, an ISO instant…">
                  <EuiFlexGroup gutterSize="xs" responsive={false}>
                    <EuiFieldText style={{ width: 130 }} aria-label="Default from" value={draft.time_range.from} onChange={(event) => setDraft({ ...draft, time_range: { ...draft.time_range, from: event.target.value } })} />
                    <EuiFieldText style={{ width: 130 }} aria-label="Default to" value={draft.time_range.to} onChange={(event) => setDraft({ ...draft, time_range: { ...draft.time_range, to: event.target.value } })} />
                    <EuiButtonEmpty size="s" onClick={() => setDraft({ ...draft, time_range: { from, to } })}>
                      Use the current range
                    </EuiButtonEmpty>
                  </EuiFlexGroup>
                </EuiFormRow>
              </EuiFlexItem>
              <EuiFlexItem grow={false} style={{ width: 200 }}>
                <EuiFormRow label="Auto-refresh">
                  <EuiSelect
                    options={REFRESH_CHOICES.some((choice) => choice.value === draft.refresh_seconds) ? REFRESH_CHOICES : [...REFRESH_CHOICES, { value: draft.refresh_seconds, text: `Every ${draft.refresh_seconds} s` }]}
                    value={draft.refresh_seconds}
                    onChange={(event) => setDraft({ ...draft, refresh_seconds: Number(event.target.value) })}
                    data-test-subj="settingsRefresh"
                  />
                </EuiFormRow>
              </EuiFlexItem>
            </EuiFlexGroup>
          </EuiPanel>
        </>
      )}
      <EuiSpacer size="m" />
      {shown.panels.length === 0 && (
        <EuiPageTemplate.EmptyPrompt
          iconType="visBarVertical"
          title={<h2>No panels yet</h2>}
          body={<p>{draft !== undefined ? 'Add a panel: counts over time, top values, a metric, the latest events or system health.' : administrator ? 'Edit the dashboard to add panels.' : 'An administrator has not added panels to this dashboard yet.'}</p>}
        />
      )}
      {shown.panels.length > 0 && (
        <DashboardGrid layout={layout} editing={draft !== undefined} onLayoutChange={onLayoutChange}>
          {shown.panels.map((panel) => (
            <div key={panel.id} data-test-subj="dashboardPanel" data-panel-id={panel.id} data-grid-position={JSON.stringify(panel.grid)}>
              <EuiPanel hasBorder paddingSize="s" style={{ height: '100%', display: 'flex', flexDirection: 'column', overflow: 'hidden' }}>
                <EuiFlexGroup gutterSize="xs" alignItems="center" responsive={false} style={{ flexGrow: 0 }}>
                  {draft !== undefined && (
                    <EuiFlexItem grow={false} className="mlogPanelHandle" style={{ cursor: 'move' }} data-test-subj="panelDragHandle">
                      <EuiIcon type="drag" aria-label="Move the panel" />
                    </EuiFlexItem>
                  )}
                  <EuiFlexItem style={{ minWidth: 0 }}>
                    <EuiToolTip content={`${VISUALISATION_LABELS[panel.visualisation.kind]}${panel.query === '' ? '' : ` · ${panel.query}`}`} position="top">
                      <EuiTitle size="xxs">
                        <h3 style={{ whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' }} data-test-subj="panelTitle">
                          {panel.title}
                        </h3>
                      </EuiTitle>
                    </EuiToolTip>
                  </EuiFlexItem>
                  {draft === undefined && canRead(session) && panel.visualisation.kind === 'latest-events' && (
                    <EuiFlexItem grow={false}>
                      <EuiLink
                        href={discoverHref(panel, from, to)}
                        onClick={(event: MouseEvent) => (event.preventDefault(), navigate(discoverHref(panel, from, to)))}
                        data-test-subj="panelDiscover"
                      >
                        <EuiText size="xs">Open in Discover</EuiText>
                      </EuiLink>
                    </EuiFlexItem>
                  )}
                  {draft !== undefined && (
                    <>
                      <EuiFlexItem grow={false}>
                        <EuiButtonIcon iconType="pencil" aria-label={`Edit the panel ${panel.title}`} onClick={() => setEditing({ panel, isNew: false })} data-test-subj="editPanel" />
                      </EuiFlexItem>
                      <EuiFlexItem grow={false}>
                        <EuiButtonIcon iconType="trash" color="danger" aria-label={`Remove the panel ${panel.title}`} onClick={() => removePanel(panel.id)} data-test-subj="removePanel" />
                      </EuiFlexItem>
                    </>
                  )}
                </EuiFlexGroup>
                <div style={{ flex: '1 1 auto', minHeight: 0, overflow: 'auto', marginTop: 4 }} data-test-subj="panelBody">
                  <PanelBody
                    visualisation={panel.visualisation}
                    answer={answerOf(panel)}
                    loading={rendering || draft !== undefined}
                    onStatePurpose={() => void askPurpose().then(() => (draft === undefined ? render(false) : setPreviews({})), () => undefined)}
                  />
                </div>
              </EuiPanel>
            </div>
          ))}
        </DashboardGrid>
      )}
      {editing !== undefined && (
        <PanelFlyout panel={editing.panel} isNew={editing.isNew} range={range} knownSystems={knownSystems} onApply={applyPanel} onClose={() => setEditing(undefined)} />
      )}
    </div>
  );
}

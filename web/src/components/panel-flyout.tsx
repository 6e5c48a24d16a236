import {
  EuiButton,
  EuiButtonEmpty,
  EuiButtonGroup,
  EuiCallOut,
  EuiComboBox,
  EuiFieldNumber,
  EuiFieldText,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFlyout,
  EuiFlyoutBody,
  EuiFlyoutFooter,
  EuiFlyoutHeader,
  EuiFormRow,
  EuiPanel,
  EuiSelect,
  EuiSpacer,
  EuiText,
  EuiTitle,
} from '@elastic/eui';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError, type Scope } from '../api';
import { defaultVisualisation, ROW_HEIGHT, VISUALISATION_LABELS, type Panel, type PanelAnswer, type Visualisation, type VisualisationKind } from '../dashboards';
import { useSession } from '../session';
import { formatInstant } from '../values';
import { PanelBody } from './dashboard-panel';
import { QueryBar } from './query-bar';
import { ScopePicker } from './scope-picker';

const KIND_OPTIONS = (Object.keys(VISUALISATION_LABELS) as VisualisationKind[]).map((kind) => ({ value: kind, text: VISUALISATION_LABELS[kind] }));
const PREVIEW_DELAY_MS = 700;

/** A field name picked from the scope's fields, or typed when it is not among them. */
function FieldPicker(props: { value: string | undefined; fields: string[]; onChange: (field: string | undefined) => void; optional?: boolean; testSubj: string; label: string }) {
  const options = [...new Set([...props.fields, ...(props.value === undefined ? [] : [props.value])])].map((name) => ({ label: name }));
  return (
    <EuiComboBox
      aria-label={props.label}
      placeholder={props.optional ? 'None (one series)' : 'Choose a field'}
      singleSelection={{ asPlainText: true }}
      options={options}
      selectedOptions={props.value === undefined ? [] : [{ label: props.value }]}
      onChange={(selected) => props.onChange(selected[0]?.label)}
      onCreateOption={(name) => props.onChange(name.trim() === '' ? undefined : name.trim())}
      isClearable={props.optional === true}
      data-test-subj={props.testSubj}
    />
  );
}

function NumberField(props: { value: number; min: number; max: number; onChange: (value: number) => void; testSubj: string; label: string }) {
  return (
    <EuiFieldNumber
      aria-label={props.label}
      value={props.value}
      min={props.min}
      max={props.max}
      step={1}
      onChange={(event) => props.onChange(Number(event.target.value))}
      isInvalid={!Number.isInteger(props.value) || props.value < props.min || props.value > props.max}
      data-test-subj={props.testSubj}
    />
  );
}

/** What keeps a panel from being saved, in the words the API would use; undefined when it can be. */
export function panelProblem(panel: Panel): string | undefined {
  const v = panel.visualisation;
  const whole = (value: number | undefined, min: number, max: number) => value !== undefined && Number.isInteger(value) && value >= min && value <= max;
  if (panel.title.trim() === '') return 'The panel needs a title.';
  if (v.kind === 'counts-over-time' && v.split_field !== undefined && !whole(v.top_n, 1, 10)) return 'The number of series must be a whole number from 1 to 10.';
  if (v.kind === 'top-values' && v.field.trim() === '') return 'Choose the field whose top values are shown.';
  if (v.kind === 'top-values' && !whole(v.top_n, 1, 50)) return 'The number of values must be a whole number from 1 to 50.';
  if (v.kind === 'metric' && v.metric === 'distinct' && v.field.trim() === '') return 'Choose the field whose distinct values are counted.';
  if (v.kind === 'latest-events' && !whole(v.size, 1, 100)) return 'The number of events must be a whole number from 1 to 100.';
  if (v.kind === 'latest-events' && v.columns.length === 0) return 'Choose at least one column.';
  return undefined;
}

/** An API error about the panel without its internal path: "panel.query: x" becomes "Query: x", or "X" where the query bar already says it is the query. */
export function readableError(message: string, atQuery: boolean): string {
  let text = message.replace(/^panel\./, '');
  if (atQuery) text = text.replace(/^query:\s*/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Adds or edits one panel: title, scope, query, visualisation and its options, with a live preview over the dashboard's range. */
export function PanelFlyout(props: { panel: Panel; isNew: boolean; range: { from: string; to: string } | undefined; knownSystems: string[]; onApply: (panel: Panel) => void; onClose: () => void }) {
  const { askPurpose } = useSession();
  const [panel, setPanel] = useState<Panel>(props.panel);
  const [queryText, setQueryText] = useState(props.panel.query);
  const [fields, setFields] = useState<string[]>([]);
  const [preview, setPreview] = useState<PanelAnswer | undefined>();
  const [previewing, setPreviewing] = useState(false);
  const [queryError, setQueryError] = useState<ApiError | undefined>();
  const sequence = useRef(0);
  const v = panel.visualisation;
  const scopeKey = JSON.stringify(panel.scope);

  useEffect(() => {
    api.fields(panel.scope).then(
      (answer) => setFields(answer.fields.map((field) => field.name)),
      () => setFields([]),
    );
  }, [scopeKey]);

  const previewed = useMemo(() => ({ ...panel, query: queryText }), [panel, queryText]);
  const previewKey = JSON.stringify({ scope: previewed.scope, query: previewed.query, visualisation: previewed.visualisation });

  const runPreview = async (target: Panel) => {
    if (props.range === undefined || panelProblem(target) !== undefined) return;
    const mine = ++sequence.current;
    setPreviewing(true);
    try {
      const answer = await api.previewPanel({ panel: target, from: props.range.from, to: props.range.to });
      if (mine !== sequence.current) return;
      setPreview({ id: target.id, data: answer.data });
      setQueryError(undefined);
    } catch (caught) {
      if (mine !== sequence.current) return;
      const thrown = caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message);
      // The form is the panel: "panel.query: …" reads as "Query: …", and under the query bar, whose label says Query, as "…".
      const error = new ApiError(thrown.status, readableError(thrown.message, thrown.column !== undefined), thrown.column, thrown.suggestions, thrown.retryAfter);
      setPreview({ id: target.id, error: { status: error.status, message: error.message, column: error.column } });
      setQueryError(error.column !== undefined ? error : undefined);
    } finally {
      if (mine === sequence.current) setPreviewing(false);
    }
  };

  useEffect(() => {
    const timer = setTimeout(() => void runPreview(previewed), PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [previewKey, props.range?.from, props.range?.to]);

  const setVisualisation = (next: Visualisation) => setPanel((current) => ({ ...current, visualisation: next }));
  const problem = panelProblem(previewed);
  const previewHeight = Math.max(160, Math.min(320, panel.grid.h * ROW_HEIGHT));

  return (
    <EuiFlyout onClose={props.onClose} size="m" ownFocus aria-labelledby="panelFlyoutTitle" data-test-subj="panelFlyout">
      <EuiFlyoutHeader hasBorder>
        <EuiTitle size="s">
          <h2 id="panelFlyoutTitle">{props.isNew ? 'Add a panel' : `Edit the panel “${props.panel.title}”`}</h2>
        </EuiTitle>
      </EuiFlyoutHeader>
      <EuiFlyoutBody>
        <EuiFormRow label="Title" fullWidth>
          <EuiFieldText fullWidth value={panel.title} onChange={(event) => setPanel({ ...panel, title: event.target.value })} data-test-subj="panelTitle" />
        </EuiFormRow>
        <EuiFormRow label="Scope" fullWidth helpText={v.kind === 'system-health' ? 'System health covers every system; the scope and query are not used.' : undefined}>
          <ScopePicker scope={panel.scope} knownSystems={props.knownSystems} onChange={(scope: Scope) => setPanel({ ...panel, scope })} />
        </EuiFormRow>
        <EuiFormRow label="Query" fullWidth helpText="The console's query language; empty matches every event of the scope.">
          <QueryBar
            query={panel.query}
            error={queryError}
            busy={previewing}
            submitLabel="Preview"
            onChange={setQueryText}
            onSubmit={(query) => {
              setQueryText(query);
              setPanel({ ...panel, query });
              void runPreview({ ...panel, query });
            }}
          />
        </EuiFormRow>
        <EuiFormRow label="Visualisation" fullWidth>
          <EuiSelect
            options={KIND_OPTIONS}
            value={v.kind}
            onChange={(event) => setVisualisation(defaultVisualisation(event.target.value as VisualisationKind))}
            data-test-subj="panelKind"
          />
        </EuiFormRow>
        {v.kind === 'counts-over-time' && (
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem>
              <EuiFormRow label="Split by the top values of" helpText="Each value is a stacked series; leave empty for one series.">
                <FieldPicker label="Split field" optional value={v.split_field} fields={fields} testSubj="panelSplitField" onChange={(field) => setVisualisation({ ...v, split_field: field })} />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false} style={{ width: 140 }}>
              <EuiFormRow label="Series (1–10)">
                <NumberField label="Series" value={v.top_n ?? 5} min={1} max={10} testSubj="panelTopN" onChange={(top_n) => setVisualisation({ ...v, top_n })} />
              </EuiFormRow>
            </EuiFlexItem>
          </EuiFlexGroup>
        )}
        {v.kind === 'top-values' && (
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem>
              <EuiFormRow label="Field">
                <FieldPicker label="Field" value={v.field === '' ? undefined : v.field} fields={fields} testSubj="panelField" onChange={(field) => setVisualisation({ ...v, field: field ?? '' })} />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false} style={{ width: 120 }}>
              <EuiFormRow label="Values (1–50)">
                <NumberField label="Values" value={v.top_n} min={1} max={50} testSubj="panelTopN" onChange={(top_n) => setVisualisation({ ...v, top_n })} />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiFormRow label="Display">
                <EuiButtonGroup
                  legend="Display"
                  options={[
                    { id: 'bar', label: 'Bars' },
                    { id: 'table', label: 'Table' },
                  ]}
                  idSelected={v.display}
                  onChange={(id) => setVisualisation({ ...v, display: id as 'bar' | 'table' })}
                  data-test-subj="panelDisplay"
                />
              </EuiFormRow>
            </EuiFlexItem>
          </EuiFlexGroup>
        )}
        {v.kind === 'metric' && (
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem grow={false} style={{ width: 200 }}>
              <EuiFormRow label="Metric">
                <EuiSelect
                  options={[
                    { value: 'count', text: 'Count of events' },
                    { value: 'distinct', text: 'Distinct values of a field' },
                  ]}
                  value={v.metric}
                  onChange={(event) => setVisualisation(event.target.value === 'distinct' ? { kind: 'metric', metric: 'distinct', field: 'user' } : { kind: 'metric', metric: 'count' })}
                  data-test-subj="panelMetric"
                />
              </EuiFormRow>
            </EuiFlexItem>
            {v.metric === 'distinct' && (
              <EuiFlexItem>
                <EuiFormRow label="Field">
                  <FieldPicker label="Field" value={v.field === '' ? undefined : v.field} fields={fields} testSubj="panelField" onChange={(field) => setVisualisation({ ...v, field: field ?? '' })} />
                </EuiFormRow>
              </EuiFlexItem>
            )}
          </EuiFlexGroup>
        )}
        {v.kind === 'latest-events' && (
          <>
            <EuiCallOut size="s" iconType="lock" title="Event contents: only auditors and administrators see them; a viewer sees a lock in this panel." />
            <EuiSpacer size="s" />
            <EuiFlexGroup gutterSize="s">
              <EuiFlexItem>
                <EuiFormRow label="Columns">
                  <EuiComboBox
                    aria-label="Columns"
                    options={fields.map((name) => ({ label: name }))}
                    selectedOptions={v.columns.map((name) => ({ label: name }))}
                    onChange={(selected) => setVisualisation({ ...v, columns: selected.map((option) => option.label) })}
                    onCreateOption={(name) => setVisualisation({ ...v, columns: [...v.columns, name.trim()] })}
                    data-test-subj="panelColumns"
                  />
                </EuiFormRow>
              </EuiFlexItem>
              <EuiFlexItem grow={false} style={{ width: 120 }}>
                <EuiFormRow label="Events (1–100)">
                  <NumberField label="Events" value={v.size} min={1} max={100} testSubj="panelSize" onChange={(size) => setVisualisation({ ...v, size })} />
                </EuiFormRow>
              </EuiFlexItem>
            </EuiFlexGroup>
          </>
        )}
        <EuiSpacer />
        <EuiFlexGroup justifyContent="spaceBetween" alignItems="center" responsive={false}>
          <EuiFlexItem grow={false}>
            <EuiTitle size="xxs">
              <h3>Preview</h3>
            </EuiTitle>
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiText size="xs" color="subdued">
              {props.range === undefined ? 'The dashboard’s time range is not valid.' : `${formatInstant(props.range.from, 's')} – ${formatInstant(props.range.to, 's')}`}
            </EuiText>
          </EuiFlexItem>
        </EuiFlexGroup>
        <EuiSpacer size="s" />
        <EuiPanel hasBorder paddingSize="s" style={{ height: previewHeight, overflow: 'auto' }} data-test-subj="panelPreview">
          {problem !== undefined ? (
            <EuiText size="s" color="subdued">
              {problem}
            </EuiText>
          ) : queryError !== undefined ? (
            // The query's error is shown once, at the query bar.
            <EuiText size="s" color="subdued" data-test-subj="previewBlocked">
              No preview until the query can be read.
            </EuiText>
          ) : (
            <PanelBody visualisation={previewed.visualisation} answer={preview} loading={previewing} />
          )}
        </EuiPanel>
        {preview?.error?.status === 428 && (
          <>
            <EuiSpacer size="s" />
            <EuiButton size="s" iconType="pencil" onClick={() => void askPurpose().then(() => runPreview(previewed), () => undefined)}>
              State a purpose to preview the events
            </EuiButton>
          </>
        )}
      </EuiFlyoutBody>
      <EuiFlyoutFooter>
        <EuiFlexGroup justifyContent="spaceBetween" responsive={false}>
          <EuiFlexItem grow={false}>
            <EuiButtonEmpty onClick={props.onClose} data-test-subj="panelCancel">
              Cancel
            </EuiButtonEmpty>
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiButton fill disabled={problem !== undefined || (preview?.error !== undefined && preview.error.status !== 428)} onClick={() => props.onApply({ ...previewed, title: previewed.title.trim() })} data-test-subj="panelApply">
              {props.isNew ? 'Add the panel' : 'Apply'}
            </EuiButton>
          </EuiFlexItem>
        </EuiFlexGroup>
      </EuiFlyoutFooter>
    </EuiFlyout>
  );
}

import {
  EuiButton,
  EuiButtonEmpty,
  EuiButtonIcon,
  EuiCallOut,
  EuiCheckboxGroup,
  EuiComboBox,
  EuiFieldNumber,
  EuiFieldPassword,
  EuiFieldText,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFlyout,
  EuiFlyoutBody,
  EuiFlyoutFooter,
  EuiFlyoutHeader,
  EuiForm,
  EuiFormRow,
  EuiHorizontalRule,
  EuiRadioGroup,
  EuiSelect,
  EuiSpacer,
  EuiSwitch,
  EuiText,
  EuiTextColor,
  EuiTitle,
} from '@elastic/eui';
import { useState, type FormEvent, type ReactElement, type ReactNode } from 'react';
import { belongsTo, COMPARATORS, draftOf, errorPath, ruleOf, RULE_TYPES, type RuleDraft } from '../alert-rules';
import { api, ApiError, type AlertRule, type Comparator, type RefusalCause } from '../api';
import { QueryBar } from './query-bar';
import { ScopePicker } from './scope-picker';
import { systemOptions, useRegisteredSystems } from '../systems';

const CAUSES = [
  { id: 'refused', label: 'Refused calls (any answer MLog refused)' },
  { id: 'signature', label: 'Signature failures' },
];

/**
 * Creates or edits an alert rule: a form per rule type, the channels, the schedule. MLog validates;
 * an error that names a field ("params.window_minutes must be …") is shown at that field, a query
 * that does not parse in the query bar with a caret at its column.
 */
export function AlertRuleFlyout(props: { rule?: AlertRule; knownSystems: string[]; onClose: () => void; onSaved: (rule: AlertRule) => void }) {
  const [draft, setDraft] = useState<RuleDraft>(() => draftOf(props.rule));
  const registeredSystems = useRegisteredSystems();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const managed = props.rule?.managed;
  const path = error === undefined || error.column !== undefined ? undefined : errorPath(error.message);
  // MLog's error stands until the form is changed: then it may no longer hold.
  const change = (patch: Partial<RuleDraft>) => {
    setDraft((current) => ({ ...current, ...patch }));
    setError(undefined);
  };
  // The paths that have a row of their own, filled as the rows are made; the query's error shows in the query bar.
  const rows: string[] = ['params.query'];

  /**
   * MLog's error as it reads under the field's label: the path the label already says is dropped and
   * the first letter capitalised ("params.value must be a whole number…" → "Must be a whole number…").
   */
  const atField = (message: string, at: string): string => {
    const text = message.startsWith(at) && /^[\s:]/.test(message.slice(at.length)) ? message.slice(at.length).replace(/^[\s:]+/, '') : message;
    return text.charAt(0).toUpperCase() + text.slice(1);
  };

  /** A form row that shows MLog's error when it names `at` (or something under it). */
  const row = (at: string, label: string, child: ReactElement, help?: ReactNode) => {
    rows.push(at);
    const own = belongsTo(path, at);
    return (
      <EuiFormRow label={label} helpText={help} isInvalid={own} error={own && error !== undefined ? atField(error.message, at) : undefined} fullWidth data-test-subj={`row-${at}`}>
        {child}
      </EuiFormRow>
    );
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const input = ruleOf(draft, managed);
      const saved = props.rule === undefined ? await api.addAlertRule(input) : await api.changeAlertRule(props.rule.id, input);
      props.onSaved(saved);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  };

  const queryError = error?.column !== undefined ? error : undefined;
  const scopeAndQuery = (
    <>
      {row('params.scope', 'Scope', <ScopePicker scope={draft.scope} knownSystems={props.knownSystems} onChange={(scope) => change({ scope })} />)}
      <EuiFormRow label="Query" fullWidth helpText={queryError === undefined ? 'The console\'s query language; empty matches every event of the scope.' : undefined}>
        <QueryBar
          inForm
          query={draft.query}
          error={queryError ?? (belongsTo(path, 'params.query') ? error : undefined)}
          busy={busy}
          onChange={(query) => change({ query })}
          onSubmit={() => undefined}
        />
      </EuiFormRow>
    </>
  );
  const systemBox = (optional: boolean) => (
    <EuiComboBox
      aria-label="System"
      data-test-subj="ruleSystem"
      singleSelection={{ asPlainText: true }}
      placeholder={optional ? 'Every system' : 'System code'}
      options={systemOptions(registeredSystems, [...props.knownSystems, draft.system])}
      renderOption={(option) => (
        <span>
          {option.label}
          {(option as { name?: string }).name !== undefined && <EuiTextColor color="subdued"> — {(option as { name?: string }).name}</EuiTextColor>}
        </span>
      )}
      selectedOptions={draft.system === '' ? [] : [{ label: draft.system }]}
      onChange={(selected) => change({ system: selected[0]?.label ?? '' })}
      onCreateOption={(code) => change({ system: code.trim() })}
      customOptionText="Use {searchValue} (system code)"
      isClearable
      fullWidth
    />
  );
  const minutes = (at: string, label: string, value: string, set: (value: string) => void, help?: string, subject?: string) =>
    row(at, label, <EuiFieldNumber value={value} onChange={(event) => set(event.target.value)} min={0} fullWidth data-test-subj={subject} />, help);

  let params: ReactNode;
  switch (draft.type) {
    case 'threshold':
      params = (
        <>
          {scopeAndQuery}
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem>{minutes('params.window_minutes', 'Window (minutes)', draft.windowMinutes, (windowMinutes) => change({ windowMinutes }), undefined, 'windowMinutes')}</EuiFlexItem>
            <EuiFlexItem>
              {row('params.group_by', 'Per value of (optional)', <EuiFieldText value={draft.groupBy} placeholder="user" onChange={(event) => change({ groupBy: event.target.value })} data-test-subj="groupBy" />)}
            </EuiFlexItem>
          </EuiFlexGroup>
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem grow={false} style={{ width: 140 }}>
              {row(
                'params.comparator',
                'Fires when the count is',
                <EuiSelect options={COMPARATORS.map((value) => ({ value, text: value }))} value={draft.comparator} onChange={(event) => change({ comparator: event.target.value as Comparator })} data-test-subj="comparator" />,
              )}
            </EuiFlexItem>
            <EuiFlexItem>{row('params.value', 'Value', <EuiFieldNumber value={draft.value} onChange={(event) => change({ value: event.target.value })} data-test-subj="thresholdValue" />)}</EuiFlexItem>
          </EuiFlexGroup>
        </>
      );
      break;
    case 'absence':
      params = (
        <>
          <EuiRadioGroup
            name="absenceOf"
            idSelected={`absence-${draft.absenceOf}`}
            options={[
              { id: 'absence-system', label: 'A system has sent nothing' },
              { id: 'absence-query', label: 'No event matches a query' },
            ]}
            onChange={(id) => change({ absenceOf: id === 'absence-system' ? 'system' : 'query' })}
          />
          <EuiSpacer size="s" />
          {draft.absenceOf === 'system' ? row('params.system', 'System', systemBox(false)) : scopeAndQuery}
          {minutes('params.duration_minutes', 'For (minutes)', draft.durationMinutes, (durationMinutes) => change({ durationMinutes }), undefined, 'durationMinutes')}
        </>
      );
      break;
    case 'new-value':
      params = (
        <>
          {scopeAndQuery}
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem>
              {row('params.field', 'Field', <EuiFieldText value={draft.field} placeholder="legal_entity" onChange={(event) => change({ field: event.target.value })} data-test-subj="newValueField" />)}
            </EuiFlexItem>
            <EuiFlexItem>
              {row('params.lookback_days', 'Not seen in the previous (days)', <EuiFieldNumber value={draft.lookbackDays} onChange={(event) => change({ lookbackDays: event.target.value })} data-test-subj="lookbackDays" />)}
            </EuiFlexItem>
          </EuiFlexGroup>
        </>
      );
      break;
    case 'refusals':
      params = (
        <>
          {row('params.system', 'System (optional)', systemBox(true))}
          {row(
            'params.causes',
            'Causes',
            <EuiCheckboxGroup
              options={CAUSES}
              idToSelectedMap={Object.fromEntries(CAUSES.map((cause) => [cause.id, draft.causes.includes(cause.id as RefusalCause)]))}
              onChange={(id) => change({ causes: draft.causes.includes(id as RefusalCause) ? draft.causes.filter((cause) => cause !== id) : [...draft.causes, id as RefusalCause] })}
            />,
          )}
          <EuiFlexGroup gutterSize="s">
            <EuiFlexItem>{minutes('params.window_minutes', 'Window (minutes)', draft.windowMinutes, (windowMinutes) => change({ windowMinutes }), undefined, 'windowMinutes')}</EuiFlexItem>
            <EuiFlexItem>{row('params.threshold', 'More than', <EuiFieldNumber value={draft.threshold} onChange={(event) => change({ threshold: event.target.value })} data-test-subj="refusalThreshold" />)}</EuiFlexItem>
          </EuiFlexGroup>
        </>
      );
      break;
  }

  const webhooks = draft.webhooks;
  const setWebhook = (index: number, patch: Partial<RuleDraft['webhooks'][number]>) => change({ webhooks: webhooks.map((hook, at) => (at === index ? { ...hook, ...patch } : hook)) });
  const channels = (
    <>
      {webhooks.map((hook, index) => (
        <EuiFlexGroup key={index} gutterSize="s" alignItems="flexEnd">
          <EuiFlexItem grow={3}>
            {row(
              `channels[${index}].url`,
              `Webhook ${index + 1} URL`,
              <EuiFieldText value={hook.url} placeholder="https://alerts.example.org/mlog" onChange={(event) => setWebhook(index, { url: event.target.value })} data-test-subj={`webhookUrl-${index}`} />,
            )}
          </EuiFlexItem>
          <EuiFlexItem grow={2}>
            {row(
              `channels[${index}].secret`,
              'Secret (HMAC-SHA256)',
              <EuiFieldPassword
                type="dual"
                value={hook.secret}
                placeholder={hook.secretSet ? 'Set; leave empty to keep' : ''}
                onChange={(event) => setWebhook(index, { secret: event.target.value })}
                autoComplete="new-password"
                data-test-subj={`webhookSecret-${index}`}
              />,
            )}
          </EuiFlexItem>
          <EuiFlexItem grow={false} style={{ paddingBottom: 8 }}>
            <EuiButtonIcon iconType="trash" color="danger" aria-label={`Remove webhook ${index + 1}`} onClick={() => change({ webhooks: webhooks.filter((_, at) => at !== index) })} />
          </EuiFlexItem>
        </EuiFlexGroup>
      ))}
      <EuiButtonEmpty size="s" iconType="plusCircle" onClick={() => change({ webhooks: [...webhooks, { url: '', secret: '', secretSet: false }] })} data-test-subj="addWebhook">
        Add a webhook
      </EuiButtonEmpty>
      {row(
        `channels[${webhooks.length}]`,
        'E-mail to',
        <EuiComboBox
          aria-label="E-mail addresses"
          data-test-subj="emails"
          noSuggestions
          placeholder="Type an address and press Enter"
          selectedOptions={draft.emails.map((label) => ({ label }))}
          onCreateOption={(address) => change({ emails: [...draft.emails, address.trim()] })}
          onChange={(selected) => change({ emails: selected.map((option) => option.label) })}
          fullWidth
        />,
        'Sent over SMTP from the address MLOG_SMTP_FROM names.',
      )}
    </>
  );

  const form = (
    <EuiForm component="form" id="alertRuleForm" onSubmit={save} fullWidth>
      {row('name', 'Name', <EuiFieldText name="name" value={draft.name} onChange={(event) => change({ name: event.target.value })} data-test-subj="ruleName" />)}
      <EuiFlexGroup gutterSize="s">
        <EuiFlexItem>
          {row(
            'type',
            'Type',
            <EuiSelect
              options={RULE_TYPES.map(({ value, text }) => ({ value, text }))}
              value={draft.type}
              disabled={managed !== undefined || props.rule !== undefined}
              onChange={(event) => change({ type: event.target.value as RuleDraft['type'] })}
              data-test-subj="ruleType"
            />,
            RULE_TYPES.find((type) => type.value === draft.type)?.description,
          )}
        </EuiFlexItem>
        <EuiFlexItem grow={false} style={{ paddingTop: 28 }}>
          <EuiSwitch label="Enabled" checked={draft.enabled} onChange={(event) => change({ enabled: event.target.checked })} data-test-subj="ruleEnabled" />
        </EuiFlexItem>
      </EuiFlexGroup>
      <EuiHorizontalRule margin="s" />
      {params}
      <EuiHorizontalRule margin="s" />
      <EuiTitle size="xxs">
        <h3>Channels</h3>
      </EuiTitle>
      <EuiSpacer size="xs" />
      {channels}
      {belongsTo(path, 'channels') && !rows.some((at) => belongsTo(path, at)) && <EuiCallOut color="danger" size="s" iconType="error" title={error?.message} />}
      <EuiHorizontalRule margin="s" />
      <EuiFlexGroup gutterSize="s">
        <EuiFlexItem>
          {row(
            'schedule',
            'Schedule',
            <EuiFieldText value={draft.schedule} onChange={(event) => change({ schedule: event.target.value })} style={{ fontFamily: 'Roboto Mono, monospace' }} data-test-subj="ruleSchedule" />,
            'A cron expression (node-cron); "* * * * *" evaluates every minute.',
          )}
        </EuiFlexItem>
        <EuiFlexItem>
          {minutes('renotify_minutes', 'Notify again while active every (minutes)', draft.renotifyMinutes, (renotifyMinutes) => change({ renotifyMinutes }), '0 notifies once per activation.', 'renotifyMinutes')}
        </EuiFlexItem>
      </EuiFlexGroup>
    </EuiForm>
  );
  // An error that names no field of this form (or no field at all) is shown above it.
  const unplaced = error !== undefined && error.column === undefined && !belongsTo(path, 'channels') && !rows.some((at) => belongsTo(path, at));

  return (
    <EuiFlyout onClose={props.onClose} size="m" ownFocus data-test-subj="alertRuleFlyout" aria-labelledby="alertRuleFlyoutTitle">
      <EuiFlyoutHeader hasBorder>
        <EuiTitle size="s">
          <h2 id="alertRuleFlyoutTitle">{props.rule === undefined ? 'Create an alert rule' : `Edit ${props.rule.name}`}</h2>
        </EuiTitle>
        {managed !== undefined && (
          <EuiText size="s" color="subdued">
            <p>MLog keeps this rule for system {managed.system}: it follows the system as it is activated, suspended or removed.</p>
          </EuiText>
        )}
      </EuiFlyoutHeader>
      <EuiFlyoutBody>
        {unplaced && (
          <>
            <EuiCallOut color="danger" iconType="error" title={error.message} data-test-subj="ruleError" />
            <EuiSpacer size="m" />
          </>
        )}
        {form}
      </EuiFlyoutBody>
      <EuiFlyoutFooter>
        <EuiFlexGroup justifyContent="spaceBetween">
          <EuiFlexItem grow={false}>
            <EuiButtonEmpty onClick={props.onClose}>Cancel</EuiButtonEmpty>
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiButton type="submit" form="alertRuleForm" fill isLoading={busy} data-test-subj="saveRule">
              {props.rule === undefined ? 'Create rule' : 'Save'}
            </EuiButton>
          </EuiFlexItem>
        </EuiFlexGroup>
      </EuiFlyoutFooter>
    </EuiFlyout>
  );
}

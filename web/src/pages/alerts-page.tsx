import {
  EuiBadge,
  EuiBasicTable,
  EuiButton,
  EuiButtonEmpty,
  EuiCallOut,
  EuiCode,
  EuiConfirmModal,
  EuiDatePicker,
  EuiFlexGroup,
  EuiFlexItem,
  EuiFormRow,
  EuiLink,
  EuiPageTemplate,
  EuiPopover,
  EuiSelect,
  EuiSpacer,
  EuiText,
  EuiToolTip,
} from '@elastic/eui';
import moment, { type Moment } from 'moment';
import { useCallback, useEffect, useMemo, useState, type MouseEvent } from 'react';
import { describeRule, instantAfter, isMuted, RULE_TYPES } from '../alert-rules';
import { api, type ActiveAlert, type AlertRule } from '../api';
import { AlertRuleFlyout } from '../components/alert-rule-flyout';
import { hrefOf, navigate, type Location } from '../router';
import { useSession } from '../session';
import { AlertHistoryPage } from './alert-history-page';
import { ConsoleLink, historyHref, RuleState, when } from '../components/alert-parts';

/** The rule id of /console/alerts/<id>, or undefined on the rules list. */
function ruleIdOf(location: Location): string | undefined {
  const path = location.href.split('?')[0] ?? '';
  const rest = path.slice(hrefOf('alerts').length).replace(/^\//, '');
  return rest === '' ? undefined : decodeURIComponent(rest.split('/')[0] ?? '');
}

type StateFilter = 'all' | 'active' | 'ok' | 'muted' | 'disabled';

/** Mute until one of 1h/8h/24h from now, or an instant chosen in the date picker. */
function MuteButton(props: { rule: AlertRule; onDone: () => void }) {
  const { notify } = useSession();
  const [open, setOpen] = useState(false);
  const [until, setUntil] = useState<Moment>(() => moment().add(1, 'day').startOf('hour'));
  const mute = async (instant: string) => {
    setOpen(false);
    try {
      await api.muteAlertRule(props.rule.id, instant);
      notify(`${props.rule.name} muted until ${when(instant)}`, undefined, 'success');
    } catch (caught) {
      notify(`${props.rule.name} was not muted`, (caught as Error).message);
    }
    props.onDone();
  };
  if (isMuted(props.rule))
    return (
      <EuiButtonEmpty
        size="xs"
        iconType="bell"
        data-test-subj="unmuteRule"
        onClick={() =>
          void api.unmuteAlertRule(props.rule.id).then(
            () => {
              notify(`${props.rule.name} unmuted`, undefined, 'success');
              props.onDone();
            },
            (caught: Error) => notify(`${props.rule.name} was not unmuted`, caught.message),
          )
        }
      >
        Unmute
      </EuiButtonEmpty>
    );
  return (
    <EuiPopover
      isOpen={open}
      closePopover={() => setOpen(false)}
      anchorPosition="downRight"
      button={
        <EuiButtonEmpty size="xs" iconType="bellSlash" onClick={() => setOpen(!open)} data-test-subj="muteRule">
          Mute
        </EuiButtonEmpty>
      }
    >
      <EuiText size="s">
        <strong>Mute {props.rule.name}</strong>
        <p style={{ maxWidth: 260 }}>It is still evaluated; notifications wait until the mute ends.</p>
      </EuiText>
      <EuiFlexGroup gutterSize="xs" responsive={false}>
        {['1h', '8h', '24h'].map((label) => (
          <EuiFlexItem key={label} grow={false}>
            <EuiButton size="s" onClick={() => void mute(instantAfter(label))} data-test-subj={`mute-${label}`}>
              {label}
            </EuiButton>
          </EuiFlexItem>
        ))}
      </EuiFlexGroup>
      <EuiSpacer size="s" />
      <EuiFormRow label="Or until">
        <EuiDatePicker selected={until} onChange={(date) => date !== null && setUntil(date)} showTimeSelect minDate={moment()} dateFormat="YYYY-MM-DD HH:mm" />
      </EuiFormRow>
      <EuiSpacer size="xs" />
      <EuiButton size="s" fill onClick={() => void mute(until.toISOString())} disabled={!until.isAfter(moment())}>
        Mute until then
      </EuiButton>
    </EuiPopover>
  );
}

/** /console/alerts: the active alerts, the rules with their state, and for administrators the rule form. */
export function AlertsPage({ location }: { location: Location }) {
  const id = ruleIdOf(location);
  return id === undefined ? <AlertRulesPage params={location.params} /> : <AlertHistoryPage id={id} />;
}

function AlertRulesPage({ params }: { params: URLSearchParams }) {
  const { session, notify } = useSession();
  const administrator = session.role === 'administrator';
  const [rules, setRules] = useState<AlertRule[] | undefined>();
  const [active, setActive] = useState<ActiveAlert[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState<AlertRule | 'new' | undefined>();
  const [deleting, setDeleting] = useState<AlertRule | undefined>();
  const type = params.get('type') ?? 'all';
  const state = (params.get('state') ?? 'all') as StateFilter;

  const load = useCallback(() => {
    Promise.all([api.alertRules(), api.activeAlerts()]).then(
      ([answer, now]) => {
        setRules(answer.rules);
        setActive(now.alerts);
        setError(undefined);
      },
      (caught: Error) => setError(caught.message),
    );
  }, []);
  useEffect(() => {
    load();
    const timer = window.setInterval(load, 30_000);
    return () => window.clearInterval(timer);
  }, [load]);

  const filter = (change: Record<string, string>) => navigate(hrefOf('alerts', { type, state, ...change }), true);
  const shown = useMemo(
    () =>
      (rules ?? [])
        .filter((rule) => type === 'all' || rule.type === type)
        .filter((rule) => {
          const firing = (rule.state?.active_groups ?? 0) > 0;
          if (state === 'active') return rule.enabled && firing;
          if (state === 'ok') return rule.enabled && !firing;
          if (state === 'muted') return isMuted(rule);
          if (state === 'disabled') return !rule.enabled;
          return true;
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
    [rules, type, state],
  );
  const knownSystems = useMemo(() => [...new Set((rules ?? []).flatMap((rule) => (rule.managed === undefined ? [] : [rule.managed.system])))], [rules]);

  const remove = async (rule: AlertRule) => {
    setDeleting(undefined);
    try {
      await api.removeAlertRule(rule.id);
      notify(`${rule.name} deleted`, undefined, 'success');
    } catch (caught) {
      notify(`${rule.name} was not deleted`, (caught as Error).message);
    }
    load();
  };

  return (
    <>
      <EuiPageTemplate.Header
        pageTitle="Alerts"
        description="Rules MLog evaluates on its schedule over the events it received; each firing, recovery and notification is kept in the audit trail with the events behind it."
        bottomBorder={false}
        rightSideItems={
          administrator
            ? [
                <EuiButton key="create" fill iconType="plusCircle" onClick={() => setEditing('new')} data-test-subj="createRule">
                  Create rule
                </EuiButton>,
              ]
            : []
        }
      />
      {error !== undefined && <EuiCallOut color="danger" iconType="error" title={error} data-test-subj="alertsError" />}
      {active !== undefined && active.length > 0 && (
        <EuiCallOut color="danger" iconType="warning" title={`${active.length} active ${active.length === 1 ? 'alert' : 'alerts'}`} data-test-subj="activeAlerts">
          <ul style={{ margin: 0 }}>
            {active.map((alert) => (
              <li key={`${alert.rule_id}/${alert.group ?? ''}`}>
                <ConsoleLink href={historyHref(alert.rule_id)}>{alert.rule_name}</ConsoleLink>
                {alert.group !== undefined && alert.group !== null && alert.group !== '' && (
                  <>
                    {' '}
                    for <EuiCode>{alert.group}</EuiCode>
                  </>
                )}
                {alert.value !== undefined && alert.value !== null && <> — value {alert.value}</>} — since {when(alert.since)}
              </li>
            ))}
          </ul>
        </EuiCallOut>
      )}
      {active !== undefined && active.length === 0 && <EuiCallOut color="success" iconType="check" size="s" title="No alert is active." data-test-subj="noActiveAlerts" />}
      <EuiSpacer size="m" />
      <EuiFlexGroup gutterSize="s" responsive={false}>
        <EuiFlexItem grow={false} style={{ width: 200 }}>
          <EuiSelect
            prepend="Type"
            aria-label="Type"
            options={[{ value: 'all', text: 'All' }, ...RULE_TYPES.map(({ value, text }) => ({ value, text }))]}
            value={type}
            onChange={(event) => filter({ type: event.target.value })}
            data-test-subj="typeFilter"
          />
        </EuiFlexItem>
        <EuiFlexItem grow={false} style={{ width: 200 }}>
          <EuiSelect
            prepend="State"
            aria-label="State"
            options={[
              { value: 'all', text: 'All' },
              { value: 'active', text: 'Active' },
              { value: 'ok', text: 'OK' },
              { value: 'muted', text: 'Muted' },
              { value: 'disabled', text: 'Disabled' },
            ]}
            value={state}
            onChange={(event) => filter({ state: event.target.value })}
            data-test-subj="stateFilter"
          />
        </EuiFlexItem>
        <EuiFlexItem grow={false}>
          <EuiButtonEmpty iconType="refresh" onClick={load} data-test-subj="refreshRules">
            Refresh
          </EuiButtonEmpty>
        </EuiFlexItem>
      </EuiFlexGroup>
      <EuiSpacer size="s" />
      {/* The fixed columns leave the rule's name room of its own; on a narrow screen the table scrolls sideways in its box. */}
      <div style={{ overflowX: 'auto', maxWidth: '100%' }}>
      <EuiBasicTable<AlertRule>
        style={{ minWidth: administrator ? 1200 : 1040 }}
        data-test-subj="rulesTable"
        items={shown}
        itemId="id"
        loading={rules === undefined && error === undefined}
        noItemsMessage={rules === undefined ? 'Loading rules…' : 'No rule matches.'}
        columns={[
          {
            name: 'Rule',
            render: (rule: AlertRule) => (
              <div>
                <ConsoleLink href={historyHref(rule.id)} subject="ruleName">
                  <strong>{rule.name}</strong>
                </ConsoleLink>
                {rule.managed !== undefined && (
                  <>
                    {' '}
                    <EuiToolTip content="MLog keeps one such rule for every active system">
                      <EuiBadge color="hollow" iconType="gear">
                        system {rule.managed.system}
                      </EuiBadge>
                    </EuiToolTip>
                  </>
                )}
                <EuiText size="xs" color="subdued">
                  {describeRule(rule)}
                </EuiText>
              </div>
            ),
          },
          { name: 'Type', width: '100px', render: (rule: AlertRule) => RULE_TYPES.find((known) => known.value === rule.type)?.text ?? rule.type },
          { name: 'Schedule', width: '150px', render: (rule: AlertRule) => <EuiCode style={{ whiteSpace: 'nowrap' }}>{rule.schedule}</EuiCode> },
          { name: 'State', width: '100px', render: (rule: AlertRule) => <RuleState rule={rule} /> },
          { name: 'Muted until', width: '190px', render: (rule: AlertRule) => <span style={{ whiteSpace: 'nowrap' }}>{isMuted(rule) ? when(rule.muted_until) : '—'}</span> },
          { name: 'Last fired', width: '190px', render: (rule: AlertRule) => <span style={{ whiteSpace: 'nowrap' }}>{when(rule.state?.last_fired_at)}</span> },
          {
            name: '',
            width: administrator ? '250px' : '90px',
            render: (rule: AlertRule) => (
              <EuiFlexGroup gutterSize="none" responsive={false} wrap={false}>
                <EuiButtonEmpty size="xs" iconType="clock" onClick={() => navigate(historyHref(rule.id))} data-test-subj="ruleHistory">
                  History
                </EuiButtonEmpty>
                {administrator && (
                  <>
                    <EuiButtonEmpty size="xs" iconType="pencil" onClick={() => setEditing(rule)} data-test-subj="editRule">
                      Edit
                    </EuiButtonEmpty>
                    <MuteButton rule={rule} onDone={load} />
                    <EuiButtonEmpty size="xs" iconType="trash" color="danger" onClick={() => setDeleting(rule)} data-test-subj="deleteRule" aria-label={`Delete ${rule.name}`} />
                  </>
                )}
              </EuiFlexGroup>
            ),
          },
        ]}
      />
      </div>
      {editing !== undefined && (
        <AlertRuleFlyout
          rule={editing === 'new' ? undefined : editing}
          knownSystems={knownSystems}
          onClose={() => setEditing(undefined)}
          onSaved={(saved) => {
            notify(`${saved.name} ${editing === 'new' ? 'created' : 'saved'}`, undefined, 'success');
            setEditing(undefined);
            load();
          }}
        />
      )}
      {deleting !== undefined && (
        <EuiConfirmModal
          title={`Delete ${deleting.name}?`}
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => void remove(deleting)}
          cancelButtonText="Keep it"
          confirmButtonText="Delete rule"
          buttonColor="danger"
          defaultFocusedButton="cancel"
          data-test-subj="deleteRuleModal"
        >
          <p>
            MLog stops evaluating it and sends no more notifications. Its history stays in the audit trail.
            {deleting.managed !== undefined && ` MLog keeps a "stopped reporting" rule for every active system: deleted, it may come back when ${deleting.managed.system} is activated again.`}
          </p>
        </EuiConfirmModal>
      )}
    </>
  );
}

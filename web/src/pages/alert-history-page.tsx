import {
  EuiBasicTable,
  EuiButton,
  EuiButtonEmpty,
  EuiButtonIcon,
  EuiCallOut,
  EuiCode,
  EuiFlexGroup,
  EuiFlexItem,
  EuiHealth,
  EuiPageTemplate,
  EuiSpacer,
  EuiText,
  EuiToolTip,
} from '@elastic/eui';
import { useCallback, useEffect, useState } from 'react';
import { describeRule, discoverLinkOf, isMuted } from '../alert-rules';
import { api, ApiError, type AlertHistoryEntry, type AlertRule, type Hit } from '../api';
import { AlertRuleFlyout } from '../components/alert-rule-flyout';
import { DocumentFlyout } from '../components/document-flyout';
import { hrefOf, navigate } from '../router';
import { useSession } from '../session';
import { describeFailure } from '../values';
import { ConsoleLink, RuleState, when } from '../components/alert-parts';

const PAGE_SIZE = 50;
const EVENTS_SHOWN = 10;

const KIND: Record<AlertHistoryEntry['kind'], { color: string; text: string }> = {
  fired: { color: 'danger', text: 'Fired' },
  recovered: { color: 'success', text: 'Recovered' },
  notified: { color: 'primary', text: 'Notified' },
  'notification-failed': { color: 'warning', text: 'Notification failed' },
};

/** The events behind a firing, each a link to Discover and a button that opens the document here. */
function EventLinks(props: { entry: AlertHistoryEntry; onOpen: (hit: Hit) => void }) {
  const [all, setAll] = useState(false);
  const events = props.entry.events;
  if (events.length === 0) return <>—</>;
  const shown = all ? events : events.slice(0, EVENTS_SHOWN);
  return (
    <div data-test-subj="firingEvents">
      {shown.map((event, index) => (
        <span key={`${event.index}/${event.id}`} style={{ whiteSpace: 'nowrap', marginRight: 8, display: 'inline-flex', alignItems: 'center' }}>
          <EuiToolTip content={`${event.index}/${event.id}`}>
            <ConsoleLink href={hrefOf('discover', discoverLinkOf(event, props.entry.time))} subject="eventLink">
              event {index + 1}
            </ConsoleLink>
          </EuiToolTip>
          {!event.index.startsWith('mlog_rejections-') && (
            <EuiButtonIcon
              size="xs"
              iconType="inspect"
              aria-label={`Open event ${index + 1} here`}
              onClick={() => props.onOpen({ index: event.index, id: event.id, source: {} })}
              data-test-subj="openFiringEvent"
            />
          )}
        </span>
      ))}
      {events.length > EVENTS_SHOWN && (
        <EuiButtonEmpty size="xs" onClick={() => setAll(!all)}>
          {all ? 'fewer' : `and ${events.length - EVENTS_SHOWN} more`}
        </EuiButtonEmpty>
      )}
    </div>
  );
}

/**
 * /console/alerts/<id>: a rule and its history, newest first (fired, recovered, notified, notification
 * failed), each firing with links to the events that triggered it; paged by MLog's cursor. MLog records
 * each reading of the history in its audit trail, and asks for a stated purpose as it does for a search.
 */
export function AlertHistoryPage({ id }: { id: string }) {
  const { session, askPurpose } = useSession();
  const [rule, setRule] = useState<AlertRule | undefined>();
  const [page, setPage] = useState<{ entries: AlertHistoryEntry[]; cursor?: string; number: number } | undefined>();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [editing, setEditing] = useState(false);
  const [open, setOpen] = useState<Hit | undefined>();

  const history = useCallback(
    async (after: string | undefined) => {
      try {
        return await api.alertHistory(id, { size: PAGE_SIZE, after });
      } catch (caught) {
        if (!(caught instanceof ApiError) || caught.status !== 428) throw caught;
        await askPurpose();
        return api.alertHistory(id, { size: PAGE_SIZE, after });
      }
    },
    [id, askPurpose],
  );

  const load = useCallback(
    async (number: number, after: string | undefined) => {
      setBusy(true);
      setError(undefined);
      try {
        const [current, answer] = await Promise.all([api.alertRule(id), history(after)]);
        setRule(current);
        setPage({ entries: answer.entries, cursor: answer.cursor, number });
        setCursors((list) => {
          const next = list.slice(0, number + 1);
          next[number + 1] = answer.cursor;
          return next;
        });
      } catch (caught) {
        setError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
      } finally {
        setBusy(false);
      }
    },
    [id, history],
  );

  useEffect(() => {
    setCursors([undefined]);
    void load(0, undefined);
  }, [load]);

  return (
    <>
      <ConsoleLink href={hrefOf('alerts')}>← Alerts</ConsoleLink>
      <EuiPageTemplate.Header
        pageTitle={rule?.name ?? id}
        description={rule === undefined ? undefined : describeRule(rule)}
        bottomBorder={false}
        rightSideItems={[
          <EuiButton key="refresh" iconType="refresh" isLoading={busy} onClick={() => void load(0, undefined)} data-test-subj="refreshHistory">
            Refresh
          </EuiButton>,
          ...(session.role === 'administrator' && rule !== undefined
            ? [
                <EuiButton key="edit" iconType="pencil" onClick={() => setEditing(true)} data-test-subj="editRule">
                  Edit
                </EuiButton>,
              ]
            : []),
        ]}
      />
      {rule !== undefined && (
        <EuiFlexGroup gutterSize="l" responsive={false} wrap data-test-subj="ruleSummary">
          <EuiFlexItem grow={false}>
            <RuleState rule={rule} />
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiText size="s">
              Schedule <EuiCode>{rule.schedule}</EuiCode>
            </EuiText>
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiText size="s">Evaluated up to {when(rule.state?.last_evaluated_to)}</EuiText>
          </EuiFlexItem>
          <EuiFlexItem grow={false}>
            <EuiText size="s">Last fired {when(rule.state?.last_fired_at)}</EuiText>
          </EuiFlexItem>
          {isMuted(rule) && (
            <EuiFlexItem grow={false}>
              <EuiText size="s">Muted until {when(rule.muted_until)}</EuiText>
            </EuiFlexItem>
          )}
          <EuiFlexItem grow={false}>
            <EuiText size="s">
              Channels:{' '}
              {rule.channels.length === 0
                ? 'none'
                : rule.channels.map((channel) => (channel.kind === 'webhook' ? `webhook ${channel.url}` : `e-mail ${channel.to.join(', ')}`)).join('; ')}
            </EuiText>
          </EuiFlexItem>
        </EuiFlexGroup>
      )}
      {error !== undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color={error.status === 404 ? 'warning' : 'danger'} iconType="error" title={error.message} data-test-subj="historyError" />
        </>
      )}
      <EuiSpacer size="m" />
      <EuiBasicTable<AlertHistoryEntry>
        data-test-subj="historyTable"
        items={page?.entries ?? []}
        loading={busy}
        noItemsMessage={page === undefined ? 'Loading the history…' : 'Nothing has happened yet: the rule has not fired.'}
        columns={[
          { name: 'Time', width: '210px', render: (entry: AlertHistoryEntry) => <span style={{ whiteSpace: 'nowrap' }}>{when(entry.time)}</span> },
          {
            name: 'What',
            width: '170px',
            render: (entry: AlertHistoryEntry) => (
              <EuiHealth color={KIND[entry.kind]?.color ?? 'subdued'} data-test-subj={`history-${entry.kind}`}>
                {KIND[entry.kind]?.text ?? entry.kind}
              </EuiHealth>
            ),
          },
          { name: 'Group', width: '140px', render: (entry: AlertHistoryEntry) => (entry.group === undefined || entry.group === null || entry.group === '' ? '—' : <EuiCode>{entry.group}</EuiCode>) },
          { name: 'Value', width: '80px', render: (entry: AlertHistoryEntry) => (entry.value === undefined || entry.value === null ? '—' : String(entry.value)) },
          {
            name: 'Channel',
            render: (entry: AlertHistoryEntry) => (
              <div>
                {entry.channel ?? '—'}
                {entry.error !== undefined && (
                  <EuiText size="xs" color="danger" data-test-subj="deliveryError">
                    {describeFailure(entry.error)}
                  </EuiText>
                )}
              </div>
            ),
          },
          { name: 'Triggering events', width: '40%', render: (entry: AlertHistoryEntry) => <EventLinks entry={entry} onOpen={setOpen} /> },
        ]}
      />
      <EuiSpacer size="s" />
      <EuiFlexGroup justifyContent="flexEnd" gutterSize="s" responsive={false}>
        <EuiButtonEmpty size="s" iconType="chevronSingleLeft" disabled={busy || page === undefined || page.number === 0} onClick={() => void load((page?.number ?? 1) - 1, cursors[(page?.number ?? 1) - 1])}>
          Newer
        </EuiButtonEmpty>
        <EuiButtonEmpty
          size="s"
          iconType="chevronSingleRight"
          iconSide="right"
          disabled={busy || page?.cursor === undefined}
          onClick={() => void load((page?.number ?? 0) + 1, page?.cursor)}
          data-test-subj="olderHistory"
        >
          Older
        </EuiButtonEmpty>
      </EuiFlexGroup>
      {editing && rule !== undefined && (
        <AlertRuleFlyout
          rule={rule}
          knownSystems={rule.managed === undefined ? [] : [rule.managed.system]}
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            setRule(saved);
            setEditing(false);
          }}
        />
      )}
      {open !== undefined && <DocumentFlyout hit={open} onClose={() => setOpen(undefined)} onOpen={setOpen} />}
    </>
  );
}

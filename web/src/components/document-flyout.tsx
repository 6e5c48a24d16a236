import {
  EuiBadge,
  EuiBasicTable,
  EuiButtonEmpty,
  EuiCallOut,
  EuiCodeBlock,
  EuiDescriptionList,
  EuiFlyout,
  EuiFlyoutBody,
  EuiFlyoutHeader,
  EuiLoadingSpinner,
  EuiSpacer,
  EuiTab,
  EuiTabs,
  EuiTitle,
} from '@elastic/eui';
import { useEffect, useState, type MouseEvent } from 'react';
import { api, type DocumentAnswer, type DocumentEvidence, type EvidenceStatus, type Hit, type SignatureStatus } from '../api';
import { useReading } from '../reading';
import { hrefOf, navigate } from '../router';
import { recordKindOf, SCOPE_LABELS } from '../discover-state';
import { displayValue, fieldValue, flatten } from '../values';
import { HitTable } from './hit-table';
import './document-flyout.css';

const SIGNATURE: Record<SignatureStatus, { color: string; text: string }> = {
  valid: { color: 'success', text: 'Signature valid' },
  invalid: { color: 'danger', text: 'Signature invalid' },
  unsigned: { color: 'default', text: 'Unsigned' },
  'certificate-not-registered': { color: 'warning', text: 'Certificate no longer registered' },
};

const EVIDENCE: Record<EvidenceStatus, { color: string; text: string }> = {
  verified: { color: 'success', text: 'Proof verified' },
  'not-yet-checkpointed': { color: 'default', text: 'Not yet checkpointed' },
  failed: { color: 'danger', text: 'Proof fails' },
  'not-logged': { color: 'warning', text: 'Not in the evidence log' },
  unavailable: { color: 'default', text: 'Evidence unavailable' },
};

const CORRELATED = ['event_correlation', 'user', 'subject'];

function mono(text: string) {
  return <code style={{ overflowWrap: 'anywhere' }}>{text}</code>;
}

/** The flyout's title: an event's type, or for a rejection its status and reason. */
function titleOf(kind: ReturnType<typeof recordKindOf>, source: Record<string, unknown>): string {
  if (kind === 'rejections') {
    const status = fieldValue(source, 'status');
    const reason = fieldValue(source, 'reason');
    const text = [status, reason].filter((part) => part !== undefined && part !== null && part !== '').map((part) => displayValue(part)).join(' · ');
    return text === '' ? 'Rejected submission' : text;
  }
  return displayValue(fieldValue(source, 'event_type'));
}

/** The event's @hash, its log position, what its receipt promised, and its inclusion proof checked now. */
function EvidencePanel(props: { evidence: DocumentEvidence }) {
  const { evidence } = props;
  const status = EVIDENCE[evidence.status];
  const place = [
    ...(evidence.hash === undefined ? [] : [{ title: '@hash', description: mono(`${evidence.hash}${evidence.hashHolds === false ? ' (the document no longer hashes to it)' : ''}`) }]),
    ...(evidence.log === undefined ? [] : [{ title: 'Log', description: mono(evidence.log) }]),
    ...(evidence.position === undefined ? [] : [{ title: 'Position', description: String(evidence.position) }]),
  ];
  const proof = [
    ...(evidence.checkpoint === undefined
      ? []
      : [
          { title: 'Checkpoint', description: `${evidence.checkpoint.seq} · ${evidence.checkpoint.size.toLocaleString('en')} leaves · signed ${evidence.checkpoint.time}` },
          { title: 'Root', description: mono(evidence.checkpoint.root) },
          { title: 'Signing key (kid)', description: mono(evidence.checkpoint.kid) },
        ]),
    ...(evidence.leafHash === undefined ? [] : [{ title: 'Leaf hash', description: mono(evidence.leafHash) }]),
    ...(evidence.auditPath === undefined ? [] : [{ title: 'Audit path', description: `${evidence.auditPath.length} ${evidence.auditPath.length === 1 ? 'hash' : 'hashes'}, nearest first` }]),
  ];
  return (
    <div data-test-subj="evidencePanel">
      <EuiCallOut
        size="s"
        color={evidence.status === 'verified' ? 'success' : evidence.status === 'failed' ? 'danger' : evidence.status === 'not-logged' ? 'warning' : 'primary'}
        iconType={evidence.status === 'verified' ? 'check' : evidence.status === 'failed' ? 'error' : 'iInCircle'}
        title={status.text}
        data-test-subj="evidenceMessage"
      >
        {evidence.message}
      </EuiCallOut>
      <EuiSpacer size="m" />
      {place.length > 0 && <EuiDescriptionList compressed type="column" listItems={place} />}
      {evidence.receipt !== undefined && (
        <>
          <EuiSpacer size="m" />
          <EuiTitle size="xxs">
            <h3>What its receipt promised</h3>
          </EuiTitle>
          <EuiSpacer size="xs" />
          <EuiDescriptionList
            compressed
            type="column"
            data-test-subj="evidenceReceipt"
            listItems={[
              { title: 'UID', description: mono(evidence.receipt.uid) },
              { title: 'Event', description: mono(evidence.receipt.id) },
              { title: 'Position', description: `${evidence.receipt.position} of log ${evidence.receipt.log}` },
              { title: 'Hash', description: mono(evidence.receipt.hash) },
            ]}
          />
        </>
      )}
      {proof.length > 0 && (
        <>
          <EuiSpacer size="m" />
          <EuiTitle size="xxs">
            <h3>Inclusion proof</h3>
          </EuiTitle>
          <EuiSpacer size="xs" />
          <EuiDescriptionList compressed type="column" listItems={proof} />
        </>
      )}
    </div>
  );
}

/** One document: every field as sent, the original JWS, its signature re-verified now, its evidence, and its neighbours. */
export function DocumentFlyout(props: { hit: Hit; onClose: () => void; onOpen: (hit: Hit) => void }) {
  const read = useReading();
  const [answer, setAnswer] = useState<DocumentAnswer | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tab, setTab] = useState<'fields' | 'jws' | 'evidence' | 'surrounding'>('fields');
  const [surrounding, setSurrounding] = useState<{ before: Hit[]; after: Hit[] } | undefined>();

  useEffect(() => {
    setAnswer(undefined);
    setSurrounding(undefined);
    setError(undefined);
    read(() => api.document(props.hit.index, props.hit.id)).then(setAnswer, (caught: Error) => setError(caught.message));
  }, [props.hit.index, props.hit.id, read]);

  useEffect(() => {
    if (tab !== 'surrounding' || surrounding !== undefined) return;
    read(() => api.surrounding(props.hit.index, props.hit.id, 5)).then(setSurrounding, (caught: Error) => setError(caught.message));
  }, [tab, surrounding, props.hit.index, props.hit.id, read]);

  const hit = answer?.hit ?? props.hit;
  const signature = answer === undefined ? undefined : SIGNATURE[answer.signature.status];
  const evidence = answer === undefined ? undefined : EVIDENCE[answer.evidence.status];
  const rows = flatten(hit.source).map(([name, value]) => ({ name, value }));
  // Signatures, the evidence log and neighbours belong to an information system's events; a
  // rejection or an audit record has none of them (a personal-data projection keeps its neighbours).
  const kind = recordKindOf(hit.index);
  const isEvent = kind === 'events';
  const hasNeighbours = kind === 'events' || kind === 'personal-data';
  const systemLabel = hit.systemName ?? hit.system ?? (kind === 'rejections' ? displayValue(fieldValue(hit.source, 'is')) : undefined);
  const badge = kind === 'events' ? (systemLabel ?? hit.index) : systemLabel === undefined || systemLabel === '—' ? SCOPE_LABELS[kind] : `${SCOPE_LABELS[kind]} · ${systemLabel}`;

  return (
    <EuiFlyout onClose={props.onClose} size="m" ownFocus data-test-subj="documentFlyout">
      <EuiFlyoutHeader hasBorder>
        <EuiTitle size="s">
          <h2 style={{ overflowWrap: 'anywhere', display: '-webkit-box', WebkitLineClamp: 3, WebkitBoxOrient: 'vertical', overflow: 'hidden' }} title={titleOf(kind, hit.source)} data-test-subj="documentTitle">
            {titleOf(kind, hit.source)}
          </h2>
        </EuiTitle>
        <EuiSpacer size="xs" />
        <EuiBadge color="hollow" title={hit.index} data-test-subj="documentScope">
          {badge}
        </EuiBadge>
        {isEvent && signature !== undefined && (
          <EuiBadge color={signature.color} data-test-subj="signatureStatus">
            {signature.text}
            {answer?.signature.kid !== undefined ? ` · kid ${answer.signature.kid}` : ''}
            {answer?.signature.alg !== undefined ? ` · ${answer.signature.alg}` : ''}
          </EuiBadge>
        )}
        {isEvent && evidence !== undefined && (
          <EuiBadge color={evidence.color} data-test-subj="evidenceStatus">
            {evidence.text}
            {answer?.evidence.position !== undefined ? ` · position ${answer.evidence.position}` : ''}
          </EuiBadge>
        )}
        <EuiSpacer size="s" />
        {CORRELATED.filter((name) => typeof fieldValue(hit.source, name) === 'string').map((name) => (
          <EuiButtonEmpty
            key={name}
            size="xs"
            iconType="link"
            href={hrefOf('correlation', { field: name, value: String(fieldValue(hit.source, name)) })}
            onClick={(event: MouseEvent) => {
              event.preventDefault();
              navigate(hrefOf('correlation', { field: name, value: String(fieldValue(hit.source, name)) }));
            }}
          >
            Correlate by {name}
          </EuiButtonEmpty>
        ))}
        {hasNeighbours && (
          <EuiTabs size="s" bottomBorder={false}>
            <EuiTab isSelected={tab === 'fields'} onClick={() => setTab('fields')}>
              Fields
            </EuiTab>
            {isEvent && (
              <EuiTab isSelected={tab === 'jws'} onClick={() => setTab('jws')} disabled={answer?.jws === undefined}>
                JWS
              </EuiTab>
            )}
            {isEvent && (
              <EuiTab isSelected={tab === 'evidence'} onClick={() => setTab('evidence')} disabled={answer === undefined} data-test-subj="evidenceTab">
                Evidence
              </EuiTab>
            )}
            <EuiTab isSelected={tab === 'surrounding'} onClick={() => setTab('surrounding')} data-test-subj="surroundingTab">
              Surrounding events
            </EuiTab>
          </EuiTabs>
        )}
      </EuiFlyoutHeader>
      <EuiFlyoutBody>
        {error !== undefined && <EuiCallOut color="danger" iconType="error" title={error} />}
        {answer === undefined && error === undefined && <EuiLoadingSpinner />}
        {tab === 'fields' && (
          <EuiBasicTable
            items={rows}
            compressed
            columns={[
              { field: 'name', name: 'Field', width: '35%' },
              { field: 'value', name: 'Value', render: (value: unknown) => <span style={{ overflowWrap: 'anywhere' }}>{displayValue(value)}</span> },
            ]}
          />
        )}
        {tab === 'jws' && answer?.jws !== undefined && (
          <EuiCodeBlock className="mlogJws" language="text" fontSize="s" paddingSize="s" isCopyable overflowHeight={500} whiteSpace="pre-wrap" data-test-subj="documentJws">
            {answer.jws}
          </EuiCodeBlock>
        )}
        {tab === 'evidence' && answer !== undefined && <EvidencePanel evidence={answer.evidence} />}
        {tab === 'surrounding' &&
          (surrounding === undefined ? (
            <EuiLoadingSpinner />
          ) : (
            <>
              <EuiTitle size="xxs">
                <h3>Before</h3>
              </EuiTitle>
              <HitTable hits={surrounding.before} columns={['event_time', 'event_type']} onOpen={props.onOpen} />
              <EuiSpacer />
              <EuiTitle size="xxs">
                <h3>After</h3>
              </EuiTitle>
              <HitTable hits={surrounding.after} columns={['event_time', 'event_type']} onOpen={props.onOpen} />
            </>
          ))}
      </EuiFlyoutBody>
    </EuiFlyout>
  );
}

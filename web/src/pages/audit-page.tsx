import { EuiBasicTable, EuiButtonEmpty, EuiCallOut, EuiCodeBlock, EuiFlexGroup, EuiFlexItem, EuiPageTemplate, EuiSpacer, EuiSuperDatePicker, EuiText } from '@elastic/eui';
import { useEffect, useState } from 'react';
import { api, ApiError, type Hit, type SearchAnswer } from '../api';
import { QueryBar } from '../components/query-bar';
import { useReading } from '../reading';
import { hrefOf, navigate } from '../router';
import { QUICK_RANGES, resolveRange } from '../time-range';
import { displayValue, fieldValue, flatten } from '../values';

const SHOWN = new Set(['event_time', '@timestamp', 'event_type']);

/** Who looked at what, and why: the console's MLog.Admin.Query records and sign-ins, newest first. */
export function AuditPage({ params }: { params: URLSearchParams }) {
  const read = useReading();
  const query = params.get('query') ?? '';
  const from = params.get('from') || 'now-7d';
  const to = params.get('to') || 'now';
  const [answer, setAnswer] = useState<SearchAnswer | undefined>();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageNumber, setPageNumber] = useState(0);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const [expanded, setExpanded] = useState<Record<string, boolean>>({});

  const update = (change: Record<string, string>) => navigate(hrefOf('audit', { query, from, to, ...change }));

  const load = (number: number, after: string | undefined) => {
    const range = resolveRange(from, to);
    if (range === undefined) return;
    setBusy(true);
    setError(undefined);
    read(() => api.audit({ query, from: range.from, to: range.to, after }))
      .then(
        (result) => {
          setAnswer(result);
          setPageNumber(number);
          setCursors((list) => {
            const next = list.slice(0, number + 1);
            next[number + 1] = result.cursor;
            return next;
          });
        },
        (caught: Error) => setError(caught instanceof ApiError ? caught : new ApiError(0, caught.message)),
      )
      .finally(() => setBusy(false));
  };

  useEffect(() => {
    setCursors([undefined]);
    load(0, undefined);
  }, [query, from, to, read]);

  return (
    <>
      <EuiPageTemplate.Header pageTitle="Audit trail" description="Every search, document view, correlation and export made in the console, with who made it and the purpose they stated; and every sign-in." bottomBorder={false} />
      <EuiFlexGroup gutterSize="s" responsive={false}>
        <EuiFlexItem>
          <QueryBar query={query} error={error?.column !== undefined ? error : undefined} busy={busy} onSubmit={(text) => (text === query ? load(0, undefined) : update({ query: text }))} />
        </EuiFlexItem>
        <EuiFlexItem grow={false}>
          <EuiSuperDatePicker start={from} end={to} commonlyUsedRanges={QUICK_RANGES} onTimeChange={({ start, end }) => update({ from: start, to: end })} onRefresh={() => load(0, undefined)} isLoading={busy} />
        </EuiFlexItem>
      </EuiFlexGroup>
      {error !== undefined && error.column === undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color="danger" iconType="error" title={error.message} />
        </>
      )}
      <EuiSpacer />
      <EuiBasicTable<Hit>
        items={answer?.hits ?? []}
        itemId="id"
        loading={busy}
        itemIdToExpandedRowMap={Object.fromEntries(
          (answer?.hits ?? [])
            .filter((hit) => expanded[hit.id])
            .map((hit) => [hit.id, <EuiCodeBlock key={hit.id} language="json" fontSize="s" paddingSize="s" transparentBackground>{JSON.stringify(hit.source, null, 2)}</EuiCodeBlock>]),
        )}
        noItemsMessage="No records in this time range."
        data-test-subj="auditTable"
        columns={[
          {
            name: '',
            width: '40px',
            render: (hit: Hit) => (
              <EuiButtonEmpty size="xs" iconType={expanded[hit.id] ? 'chevronSingleDown' : 'chevronSingleRight'} aria-label="Show the whole record" onClick={() => setExpanded((map) => ({ ...map, [hit.id]: !map[hit.id] }))} />
            ),
          },
          { name: 'Time', width: '210px', render: (hit: Hit) => displayValue(fieldValue(hit.source, 'event_time') ?? fieldValue(hit.source, '@timestamp')) },
          { name: 'Record', width: '180px', render: (hit: Hit) => displayValue(fieldValue(hit.source, 'event_type')) },
          {
            name: 'Details',
            render: (hit: Hit) => (
              <EuiText size="xs">
                {flatten(hit.source)
                  .filter(([name]) => !SHOWN.has(name))
                  .map(([name, value]) => `${name}: ${displayValue(value)}`)
                  .join(' · ')}
              </EuiText>
            ),
          },
        ]}
      />
      <EuiSpacer size="s" />
      <EuiFlexGroup justifyContent="flexEnd" gutterSize="s" responsive={false}>
        <EuiButtonEmpty size="s" iconType="chevronSingleLeft" disabled={busy || pageNumber === 0} onClick={() => load(pageNumber - 1, cursors[pageNumber - 1])}>
          Newer
        </EuiButtonEmpty>
        <EuiButtonEmpty size="s" iconType="chevronSingleRight" iconSide="right" disabled={busy || answer?.cursor === undefined} onClick={() => load(pageNumber + 1, answer?.cursor)}>
          Older
        </EuiButtonEmpty>
      </EuiFlexGroup>
    </>
  );
}

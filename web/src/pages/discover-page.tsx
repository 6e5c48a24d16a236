import { EuiButtonEmpty, EuiCallOut, EuiFlexGroup, EuiFlexItem, EuiPanel, EuiSpacer, EuiSuperDatePicker, EuiText } from '@elastic/eui';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError, type Hit, type SearchAnswer } from '../api';
import { DocumentFlyout } from '../components/document-flyout';
import { ExportButton } from '../components/export-button';
import { FieldList } from '../components/field-list';
import { Histogram } from '../components/histogram';
import { HitTable } from '../components/hit-table';
import { QueryBar } from '../components/query-bar';
import { ScopePicker } from '../components/scope-picker';
import { addClause, DEFAULT_COLUMNS, discoverParams, filterClause, KNOWN_FIELDS, readDiscoverState, type DiscoverState } from '../discover-state';
import { useReading } from '../reading';
import { useSession } from '../session';
import { hrefOf, navigate } from '../router';
import { QUICK_RANGES, resolveRange } from '../time-range';

const PAGE_SIZE = 50;

/** Discover: scope, time, query; the histogram, the field list and the hits, paged by MLog's cursor. */
export function DiscoverPage({ params }: { params: URLSearchParams }) {
  const read = useReading();
  const { session } = useSession();
  const state = useMemo(() => readDiscoverState(params), [params]);
  const key = JSON.stringify(state);
  const [answer, setAnswer] = useState<SearchAnswer | undefined>();
  const [page, setPage] = useState<{ hits: Hit[]; cursor?: string; number: number } | undefined>();
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [open, setOpen] = useState<Hit | undefined>();
  const [knownSystems, setKnownSystems] = useState<string[]>([]);
  const range = resolveRange(state.from, state.to);

  const update = useCallback((change: Partial<DiscoverState>) => navigate(hrefOf('discover', discoverParams({ ...state, ...change }))), [state]);

  const search = useCallback(async () => {
    if (range === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      const result = await read(() =>
        api.search({ scope: state.scope, query: state.query, from: range.from, to: range.to, columns: state.columns, size: PAGE_SIZE, histogram: true, fields: true }),
      );
      setAnswer(result);
      setPage({ hits: result.hits, cursor: result.cursor, number: 0 });
      setCursors([undefined, result.cursor]);
      setKnownSystems((known) => [...new Set([...known, ...result.hits.flatMap((hit) => (hit.system === undefined ? [] : [hit.system]))])]);
    } catch (caught) {
      setAnswer(undefined);
      setPage(undefined);
      setError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  }, [key, read]);

  useEffect(() => {
    void search();
  }, [search]);

  const goToPage = async (number: number) => {
    if (range === undefined) return;
    setBusy(true);
    try {
      const after = cursors[number];
      const result = await read(() => api.search({ scope: state.scope, query: state.query, from: range.from, to: range.to, columns: state.columns, size: PAGE_SIZE, after }));
      setPage({ hits: result.hits, cursor: result.cursor, number });
      setCursors((list) => {
        const next = list.slice(0, number + 1);
        next[number + 1] = result.cursor;
        return next;
      });
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  };

  // The field list: the fields the search counted values of, and those the scope's records are known to
  // have (a time, a text, an object), so that a removed column can always be added back.
  const fields = useMemo(() => {
    const counted = answer?.fields ?? [];
    const names = new Set(counted.map((field) => field.name));
    const extra = [...KNOWN_FIELDS[state.scope.kind], ...state.columns].filter((name) => !names.has(name));
    return [...counted, ...[...new Set(extra)].map((name) => ({ name, top: [] }))].sort((a, b) => a.name.localeCompare(b.name));
  }, [answer, state.scope.kind, state.columns]);

  // Say why the table is empty: a search refused or not run is not "nothing matched".
  const records = state.scope.kind === 'rejections' ? 'rejections' : state.scope.kind === 'personal-data' ? 'personal-data records' : state.scope.kind === 'audit' ? 'audit records' : 'events';
  const emptyMessage =
    range === undefined
      ? 'No search ran: the time range is not valid.'
      : error !== undefined
        ? 'No search results: MLog refused the search (see the message above).'
        : answer === undefined
          ? busy
            ? 'Searching…'
            : session.purpose === null
              ? 'No search ran: state the purpose of your search first.'
              : 'No search ran yet.'
          : `No ${records} match this search.`;

  const first = page === undefined ? 0 : page.number * PAGE_SIZE + 1;
  const last = page === undefined ? 0 : page.number * PAGE_SIZE + page.hits.length;

  return (
    <>
      <EuiFlexGroup gutterSize="s" wrap responsive={false} alignItems="center">
        <EuiFlexItem grow={false}>
          <ScopePicker
            scope={state.scope}
            knownSystems={knownSystems}
            // Another kind of record has other fields: its own default columns replace the previous ones.
            onChange={(scope) => update(scope.kind === state.scope.kind ? { scope } : { scope, columns: DEFAULT_COLUMNS[scope.kind] })}
          />
        </EuiFlexItem>
        <EuiFlexItem grow={false}>
          <EuiSuperDatePicker
            start={state.from}
            end={state.to}
            commonlyUsedRanges={QUICK_RANGES}
            onTimeChange={({ start, end }) => update({ from: start, to: end })}
            onRefresh={() => void search()}
            isLoading={busy}
            data-test-subj="datePicker"
          />
        </EuiFlexItem>
        <EuiFlexItem grow={false} style={{ marginLeft: 'auto' }}>
          <EuiFlexGroup gutterSize="s" alignItems="center" responsive={false}>
            <ExportButton scope={state.scope} query={state.query} from={range?.from ?? ''} to={range?.to ?? ''} columns={state.columns} total={answer?.total} />
          </EuiFlexGroup>
        </EuiFlexItem>
      </EuiFlexGroup>
      <EuiSpacer size="s" />
      <QueryBar query={state.query} error={error?.column !== undefined ? error : undefined} busy={busy} onSubmit={(query) => (query === state.query ? void search() : update({ query }))} />
      {range === undefined && <EuiCallOut color="danger" title="The time range is not valid: choose it again in the date picker." />}
      {error !== undefined && error.column === undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color={error.status === 403 ? 'warning' : 'danger'} iconType="error" title={error.message} data-test-subj="searchError" />
        </>
      )}
      <EuiSpacer size="m" />
      <EuiFlexGroup gutterSize="m" alignItems="flexStart">
        <EuiFlexItem grow={false} style={{ width: 280 }}>
          <FieldList
            fields={fields}
            columns={state.columns}
            onFilter={(field, value, exclude) => update({ query: addClause(state.query, filterClause(field, value, exclude)) })}
            onToggleColumn={(field) =>
              update({ columns: state.columns.includes(field) ? state.columns.filter((name) => name !== field) : [...state.columns, field] })
            }
          />
        </EuiFlexItem>
        {/* minWidth 0: a wide table scrolls inside its box instead of widening the page. */}
        <EuiFlexItem style={{ minWidth: 0 }}>
          <EuiPanel paddingSize="s" hasBorder>
            <EuiText size="s" data-test-subj="hitCount">
              <strong>{answer === undefined ? '—' : answer.total.toLocaleString()}</strong> {answer?.total === 1 ? 'hit' : 'hits'}
              {answer?.histogram !== undefined && <span style={{ opacity: 0.7 }}> · interval {answer.histogram.interval}</span>}
            </EuiText>
            {answer?.histogram !== undefined && <Histogram histogram={answer.histogram} onZoom={(from, to) => update({ from, to })} />}
          </EuiPanel>
          <EuiSpacer size="s" />
          <HitTable
            hits={page?.hits ?? []}
            columns={state.columns}
            onOpen={setOpen}
            loading={busy}
            noItemsMessage={emptyMessage}
            showSystem={state.scope.kind === 'events' || state.scope.kind === 'personal-data'}
          />
          <EuiSpacer size="s" />
          <EuiFlexGroup justifyContent="spaceBetween" alignItems="center" responsive={false}>
            <EuiFlexItem grow={false}>
              <EuiText size="xs" color="subdued">
                {page !== undefined && page.hits.length > 0 ? `Rows ${first.toLocaleString()}–${last.toLocaleString()} of ${answer?.total.toLocaleString() ?? '?'}` : ''}
              </EuiText>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiFlexGroup gutterSize="s" responsive={false}>
                <EuiButtonEmpty size="s" iconType="chevronSingleLeft" disabled={busy || page === undefined || page.number === 0} onClick={() => void goToPage((page?.number ?? 1) - 1)}>
                  Newer
                </EuiButtonEmpty>
                <EuiButtonEmpty
                  size="s"
                  iconType="chevronSingleRight"
                  iconSide="right"
                  disabled={busy || page?.cursor === undefined || page.hits.length < PAGE_SIZE}
                  onClick={() => void goToPage((page?.number ?? 0) + 1)}
                  data-test-subj="nextPage"
                >
                  Older
                </EuiButtonEmpty>
              </EuiFlexGroup>
            </EuiFlexItem>
          </EuiFlexGroup>
        </EuiFlexItem>
      </EuiFlexGroup>
      {open !== undefined && <DocumentFlyout hit={open} onClose={() => setOpen(undefined)} onOpen={setOpen} />}
    </>
  );
}

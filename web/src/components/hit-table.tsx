import { EuiBasicTable, EuiButtonIcon, type EuiBasicTableColumn } from '@elastic/eui';
import type { Hit } from '../api';
import { displayValue, fieldValue } from '../values';

/** Columns whose values have a known, short width; any other column shares what is left. */
const NARROW: Record<string, string> = {
  event_time: '260px',
  '@received': '260px',
  status: '80px',
  is: '120px',
  '@is': '120px',
  event_level: '100px',
  legal_basis: '180px',
};

/**
 * Hits with the chosen columns, newest first as MLog sends them; the first cell opens the document.
 * The layout is fixed: long values are cut with "…" (the full value on hover), and with many
 * columns the table scrolls sideways inside its own box rather than pushing the page wider.
 */
export function HitTable(props: { hits: Hit[]; columns: string[]; onOpen: (hit: Hit) => void; loading?: boolean; noItemsMessage?: string; showSystem?: boolean }) {
  const columns: EuiBasicTableColumn<Hit>[] = [
    {
      name: '',
      width: '40px',
      render: (hit: Hit) => <EuiButtonIcon iconType="maximize" aria-label="Open the document" onClick={() => props.onOpen(hit)} data-test-subj="openDocument" />,
    },
    ...(props.showSystem === false
      ? []
      : [
          {
            name: 'system',
            width: '140px',
            truncateText: true,
            render: (hit: Hit) => {
              const text = hit.systemName ?? hit.system ?? '—';
              return <span title={text}>{text}</span>;
            },
          } satisfies EuiBasicTableColumn<Hit>,
        ]),
    ...props.columns.map(
      (name): EuiBasicTableColumn<Hit> => ({
        name,
        width: NARROW[name] ?? (props.columns.length > 4 ? '220px' : undefined),
        truncateText: true,
        render: (hit: Hit) => {
          const text = displayValue(fieldValue(hit.source, name));
          return <span title={text}>{text}</span>;
        },
      }),
    ),
  ];
  // With many columns each keeps a readable width and the table scrolls sideways in its own box.
  const minWidth = props.columns.length > 4 ? 180 + props.columns.reduce((sum, name) => sum + parseInt(NARROW[name] ?? '220', 10), 0) : undefined;
  return (
    <div style={{ overflowX: 'auto', maxWidth: '100%' }} data-test-subj="hitTableScroll">
      <EuiBasicTable<Hit>
        items={props.hits}
        columns={columns}
        itemId="id"
        loading={props.loading}
        tableLayout="fixed"
        noItemsMessage={props.noItemsMessage ?? 'No events match this search.'}
        data-test-subj="hitTable"
        style={minWidth === undefined ? undefined : { minWidth }}
      />
    </div>
  );
}

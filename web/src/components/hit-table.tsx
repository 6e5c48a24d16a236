import { EuiBasicTable, EuiButtonIcon, type EuiBasicTableColumn } from '@elastic/eui';
import type { Hit } from '../api';
import { displayValue, fieldValue } from '../values';

/** Hits with the chosen columns, newest first as MLog sends them; the first cell opens the document. */
export function HitTable(props: { hits: Hit[]; columns: string[]; onOpen: (hit: Hit) => void; loading?: boolean }) {
  const columns: EuiBasicTableColumn<Hit>[] = [
    {
      name: '',
      width: '40px',
      render: (hit: Hit) => <EuiButtonIcon iconType="maximize" aria-label="Open the document" onClick={() => props.onOpen(hit)} data-test-subj="openDocument" />,
    },
    { name: 'system', width: '140px', render: (hit: Hit) => hit.systemName ?? hit.system ?? '—' },
    ...props.columns.map(
      (name): EuiBasicTableColumn<Hit> => ({
        name,
        truncateText: true,
        render: (hit: Hit) => displayValue(fieldValue(hit.source, name)),
      }),
    ),
  ];
  return <EuiBasicTable<Hit> items={props.hits} columns={columns} itemId="id" loading={props.loading} tableLayout="auto" noItemsMessage="No events match this search." data-test-subj="hitTable" />;
}

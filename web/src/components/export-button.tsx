import { EuiButton, EuiContextMenuItem, EuiContextMenuPanel, EuiPopover, EuiProgress, EuiText } from '@elastic/eui';
import { useState } from 'react';
import { api, type Scope } from '../api';
import { useReading } from '../reading';
import { useSession } from '../session';

/** The row count the export's last line states ({"mlog_export":{…,"rows":N,…}}), when it can be read. */
function rowsOfSummary(chunks: Uint8Array[]): number | undefined {
  const last2 = chunks.slice(-2).map((chunk) => chunk.subarray(Math.max(0, chunk.length - 8192)));
  const bytes = new Uint8Array(last2.reduce((sum, chunk) => sum + chunk.length, 0));
  last2.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
  const tail = new TextDecoder().decode(bytes).trimEnd();
  const last = tail.slice(tail.lastIndexOf('\n') + 1).replace(/^# /, '');
  try {
    const rows = (JSON.parse(last) as { mlog_export?: { rows?: unknown } }).mlog_export?.rows;
    return typeof rows === 'number' ? rows : undefined;
  } catch {
    return undefined;
  }
}

/** Streams the whole result of the search as CSV or NDJSON into a download, showing the rows received. */
export function ExportButton(props: { scope: Scope; query: string; from: string; to: string; columns: string[]; total: number | undefined }) {
  const read = useReading();
  const { notify } = useSession();
  const [open, setOpen] = useState(false);
  const [rows, setRows] = useState<number | undefined>();

  const run = async (format: 'csv' | 'ndjson') => {
    setOpen(false);
    setRows(0);
    try {
      const response = await read(() => api.exportFile({ scope: props.scope, query: props.query, from: props.from, to: props.to, format, columns: props.columns }));
      const reader = response.body?.getReader();
      const chunks: Uint8Array[] = [];
      let lines = 0;
      if (reader !== undefined) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          for (const byte of value) if (byte === 10) lines += 1;
          setRows(Math.max(0, lines - (format === 'csv' ? 1 : 0)));
        }
      }
      const blob = new Blob(chunks as BlobPart[], { type: format === 'csv' ? 'text/csv' : 'application/x-ndjson' });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `mlog-export-${new Date().toISOString().replace(/[:.]/g, '-')}.${format === 'csv' ? 'csv' : 'ndjson'}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      // A CSV starts with its header line, and every export ends with its summary line: neither is a row.
      // The summary states the row count; the lines counted are the fallback (a value may hold a newline).
      const written = rowsOfSummary(chunks) ?? Math.max(0, lines - (format === 'csv' ? 2 : 1));
      notify('Export finished', `${written.toLocaleString()} ${written === 1 ? 'row' : 'rows'} written; the last line states the query, scope, time range, row count and SHA-256.`, 'success');
    } catch (error) {
      notify('The export failed', (error as Error).message);
    } finally {
      setRows(undefined);
    }
  };

  return (
    <>
      <EuiPopover
        isOpen={open}
        closePopover={() => setOpen(false)}
        panelPaddingSize="none"
        button={
          <EuiButton iconType="download" size="s" onClick={() => setOpen(!open)} isLoading={rows !== undefined} data-test-subj="exportButton">
            Export
          </EuiButton>
        }
      >
        <EuiContextMenuPanel
          items={[
            <EuiContextMenuItem key="csv" icon="document" onClick={() => void run('csv')} data-test-subj="exportCsv">
              CSV
            </EuiContextMenuItem>,
            <EuiContextMenuItem key="ndjson" icon="document" onClick={() => void run('ndjson')} data-test-subj="exportNdjson">
              NDJSON
            </EuiContextMenuItem>,
          ]}
        />
      </EuiPopover>
      {rows !== undefined && (
        <div style={{ minWidth: 200 }} data-test-subj="exportProgress">
          <EuiText size="xs">
            {rows.toLocaleString()} {props.total !== undefined ? `of ${props.total.toLocaleString()} ` : ''}rows
          </EuiText>
          {props.total !== undefined && props.total > 0 ? <EuiProgress size="xs" value={Math.min(rows, props.total)} max={props.total} /> : <EuiProgress size="xs" />}
        </div>
      )}
    </>
  );
}

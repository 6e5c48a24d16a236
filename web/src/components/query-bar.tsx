import { EuiButton, EuiCallOut, EuiCode, EuiFieldText, EuiFlexGroup, EuiFlexItem, EuiLink, EuiSpacer, EuiText } from '@elastic/eui';
import { useEffect, useState } from 'react';
import type { ApiError } from '../api';

/** What ends a field name in MLog's query language (src/search/query-language.peggy). */
const FIELD_NAME = /^[^\s:<>=()"'\\*]+/;

/**
 * The query with the unknown field that MLog named at `column` (1-based, in `asked`, the query it
 * refused) replaced by `suggestion`. When the text was edited since, the same field name is replaced
 * where it stands before a ":" or a comparison, nearest to the column.
 */
export function replaceField(text: string, asked: string, column: number, suggestion: string): string {
  const start = column - 1;
  const name = FIELD_NAME.exec(asked.slice(start))?.[0];
  if (name === undefined) return text;
  if (text === asked) return `${text.slice(0, start)}${suggestion}${text.slice(start + name.length)}`;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(^|[\\s(])${escaped}(?=\\s*[:<>])`, 'g');
  let best: { at: number; length: number } | undefined;
  for (const match of text.matchAll(pattern)) {
    const at = (match.index ?? 0) + match[1]!.length;
    if (best === undefined || Math.abs(at - start) < Math.abs(best.at - start)) best = { at, length: name.length };
  }
  return best === undefined ? text : `${text.slice(0, best.at)}${suggestion}${text.slice(best.at + best.length)}`;
}

/**
 * The KQL-like query bar; a malformed query is shown with a caret at the column MLog named. In a form
 * (`inForm`) it has no Search button and reports each change through `onChange`.
 */
export function QueryBar(props: { query: string; error?: ApiError; onSubmit: (query: string) => void; busy: boolean; inForm?: boolean; onChange?: (query: string) => void; submitLabel?: string }) {
  const [text, setText] = useState(props.query);
  useEffect(() => setText(props.query), [props.query]);
  const error = props.error;
  const column = error?.column;

  return (
    <>
      <EuiFlexGroup gutterSize="s" responsive={false}>
        <EuiFlexItem>
            <EuiFieldText
              fullWidth
              icon="search"
              name="query"
              placeholder='event_type:"MPass.Login" and not user:* — bare words search event_message'
              value={text}
              isInvalid={column !== undefined}
              onChange={(event) => {
                setText(event.target.value);
                props.onChange?.(event.target.value);
              }}
              onKeyDown={(event) => {
                if (event.key === 'Enter') props.onSubmit(text);
              }}
              aria-label="Query"
              data-test-subj="queryInput"
              style={{ fontFamily: 'Roboto Mono, monospace' }}
            />
        </EuiFlexItem>
        {props.inForm !== true && <EuiFlexItem grow={false}>
          <EuiButton fill iconType="refresh" isLoading={props.busy} onClick={() => props.onSubmit(text)} data-test-subj="querySubmit">
            {props.submitLabel ?? 'Search'}
          </EuiButton>
        </EuiFlexItem>}
      </EuiFlexGroup>
      {error !== undefined && (
        <>
          <EuiSpacer size="s" />
          <EuiCallOut color="danger" iconType="error" size="s" title={error.message} data-test-subj="queryError">
            {column !== undefined && (
              <pre style={{ margin: 0, fontFamily: 'Roboto Mono, monospace', fontSize: 13, lineHeight: 1.3, whiteSpace: 'pre', overflowX: 'auto' }}>
                {props.query}
                {'\n'}
                {' '.repeat(Math.max(0, column - 1))}^ column {column}
              </pre>
            )}
            {error.suggestions !== undefined && error.suggestions.length > 0 && (
              <EuiText size="s">
                Did you mean{' '}
                {error.suggestions.map((name, index) => (
                  <span key={name}>
                    {index > 0 && ', '}
                    <EuiLink
                      data-test-subj="querySuggestion"
                      onClick={() => {
                        const next = column === undefined ? text : replaceField(text, props.query, column, name);
                        setText(next);
                        props.onChange?.(next);
                      }}
                    >
                      <EuiCode>{name}</EuiCode>
                    </EuiLink>
                  </span>
                ))}
                ?
              </EuiText>
            )}
          </EuiCallOut>
        </>
      )}
    </>
  );
}

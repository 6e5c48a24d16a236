import { EuiButton, EuiCallOut, EuiCode, EuiFieldText, EuiFlexGroup, EuiFlexItem, EuiLink, EuiSpacer, EuiText } from '@elastic/eui';
import { useEffect, useState } from 'react';
import type { ApiError } from '../api';

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
                      onClick={() => {
                        const next = text.replace(/[\w.]+(?=\s*:)/, name);
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

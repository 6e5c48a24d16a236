import { EuiBadge, EuiButton, EuiCallOut, EuiFieldText, EuiFlexGroup, EuiFlexItem, EuiLink, EuiLoadingSpinner, EuiPageTemplate, EuiSelect, EuiSpacer, EuiText, EuiTimeline, EuiTimelineItem, EuiTitle } from '@elastic/eui';
import { useEffect, useState } from 'react';
import { api, type CorrelationStep, type Hit } from '../api';
import { DocumentFlyout } from '../components/document-flyout';
import { useReading } from '../reading';
import { hrefOf, navigate } from '../router';
import { displayValue, fieldValue, formatDuration } from '../values';

const FIELDS = ['event_correlation', 'user', 'subject'];

/** Every event that shares an event_correlation, user or subject value, across all systems, in event_time order. */
export function CorrelationPage({ params }: { params: URLSearchParams }) {
  const read = useReading();
  const field = FIELDS.includes(params.get('field') ?? '') ? (params.get('field') as string) : 'event_correlation';
  const value = params.get('value') ?? '';
  const [fieldInput, setFieldInput] = useState(field);
  const [valueInput, setValueInput] = useState(value);
  const [steps, setSteps] = useState<CorrelationStep[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<Hit | undefined>();

  useEffect(() => {
    setFieldInput(field);
    setValueInput(value);
    setSteps(undefined);
    setError(undefined);
    if (value === '') return;
    setBusy(true);
    read(() => api.correlation(field, value))
      .then((answer) => setSteps(answer.steps), (caught: Error) => setError(caught.message))
      .finally(() => setBusy(false));
  }, [field, value, read]);

  const systems = [...new Set((steps ?? []).map((step) => step.systemName))];

  return (
    <>
      <EuiPageTemplate.Header pageTitle="Correlation" description="Follow one value across every information system, in event_time order." bottomBorder={false} />
      <EuiFlexGroup gutterSize="s" responsive={false}>
        <EuiFlexItem grow={false} style={{ width: 200 }}>
          <EuiSelect aria-label="Field" options={FIELDS.map((name) => ({ value: name, text: name }))} value={fieldInput} onChange={(event) => setFieldInput(event.target.value)} />
        </EuiFlexItem>
        <EuiFlexItem>
          <EuiFieldText
            fullWidth
            aria-label="Value"
            placeholder="The value to follow"
            value={valueInput}
            onChange={(event) => setValueInput(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') navigate(hrefOf('correlation', { field: fieldInput, value: valueInput.trim() }));
            }}
            data-test-subj="correlationValue"
          />
        </EuiFlexItem>
        <EuiFlexItem grow={false}>
          <EuiButton fill iconType="search" isLoading={busy} onClick={() => navigate(hrefOf('correlation', { field: fieldInput, value: valueInput.trim() }))}>
            Follow
          </EuiButton>
        </EuiFlexItem>
      </EuiFlexGroup>
      <EuiSpacer />
      {error !== undefined && <EuiCallOut color="danger" iconType="error" title={error} />}
      {busy && <EuiLoadingSpinner size="l" />}
      {steps !== undefined && (
        <>
          <EuiText size="s">
            <p>
              {steps.length === 0 ? (
                <span data-test-subj="correlationNone">
                  No event has {field} “{value}” in any system.
                </span>
              ) : (
                <>
                  {steps.length} {steps.length === 1 ? 'event' : 'events'} in {systems.length} {systems.length === 1 ? 'system' : 'systems'}: {systems.join(' → ')}
                </>
              )}
            </p>
          </EuiText>
          <EuiSpacer size="s" />
          <EuiTimeline aria-label={`Events with ${field} ${value}`} data-test-subj="correlationTimeline">
            {steps.map((step, index) => (
              <EuiTimelineItem key={`${step.hit.index}/${step.hit.id}`} icon={index === 0 ? 'flag' : 'sortDown'} verticalAlign="top">
                <EuiTitle size="xxs">
                  <h3>
                    <EuiBadge color="primary">{step.systemName}</EuiBadge> {displayValue(fieldValue(step.hit.source, 'event_type'))}
                  </h3>
                </EuiTitle>
                <EuiText size="xs">
                  <p>
                    {displayValue(fieldValue(step.hit.source, 'event_time'))}
                    {step.gapMs !== null && index > 0 && <> · +{formatDuration(step.gapMs)} after the previous step</>}
                    {' · '}
                    <EuiLink onClick={() => setOpen(step.hit)}>open the document</EuiLink>
                  </p>
                  <p>{displayValue(fieldValue(step.hit.source, 'event_message'))}</p>
                </EuiText>
              </EuiTimelineItem>
            ))}
          </EuiTimeline>
        </>
      )}
      {open !== undefined && <DocumentFlyout hit={open} onClose={() => setOpen(undefined)} onOpen={setOpen} />}
    </>
  );
}

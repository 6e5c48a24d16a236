import { EuiAccordion, EuiButtonIcon, EuiFlexGroup, EuiFlexItem, EuiPanel, EuiProgress, EuiText, EuiTitle, EuiToken, EuiToolTip } from '@elastic/eui';
import type { FieldTop } from '../api';
import { displayValue } from '../values';

/** The scope's fields with the top 5 values of the current query; a value filters for or out. */
export function FieldList(props: {
  fields: FieldTop[];
  columns: string[];
  onFilter: (field: string, value: unknown, exclude: boolean) => void;
  onToggleColumn: (field: string) => void;
}) {
  return (
    <EuiPanel paddingSize="s" hasBorder data-test-subj="fieldList">
      <EuiTitle size="xxs">
        <h3>Fields</h3>
      </EuiTitle>
      {props.fields.length === 0 && (
        <EuiText size="xs" color="subdued">
          <p>No fields for this search.</p>
        </EuiText>
      )}
      {props.fields.map((field) => {
        const shown = props.columns.includes(field.name);
        return (
          <EuiAccordion
            key={field.name}
            id={`field-${field.name}`}
            paddingSize="xs"
            buttonContent={
              <EuiText size="xs">
                <EuiToken iconType="tokenString" size="xs" /> {field.name}
              </EuiText>
            }
            extraAction={
              <EuiButtonIcon
                size="xs"
                iconType={shown ? 'minusCircle' : 'plusCircle'}
                aria-label={shown ? `Remove column ${field.name}` : `Add column ${field.name}`}
                onClick={() => props.onToggleColumn(field.name)}
              />
            }
          >
            {field.top.map((top) => (
              <EuiFlexGroup key={displayValue(top.value)} gutterSize="xs" alignItems="center" responsive={false}>
                <EuiFlexItem>
                  <EuiProgress
                    valueText={`${(top.share * 100).toFixed(1)}%`}
                    label={<span title={displayValue(top.value)}>{displayValue(top.value)}</span>}
                    value={top.share * 100}
                    max={100}
                    size="s"
                    color="primary"
                  />
                </EuiFlexItem>
                <EuiFlexItem grow={false}>
                  <EuiToolTip content={`Filter for ${field.name}: ${displayValue(top.value)}`}>
                    <EuiButtonIcon size="xs" iconType="filterInclude" aria-label={`Filter for ${field.name} ${displayValue(top.value)}`} onClick={() => props.onFilter(field.name, top.value, false)} />
                  </EuiToolTip>
                </EuiFlexItem>
                <EuiFlexItem grow={false}>
                  <EuiToolTip content={`Filter out ${field.name}: ${displayValue(top.value)}`}>
                    <EuiButtonIcon size="xs" iconType="filterExclude" aria-label={`Filter out ${field.name} ${displayValue(top.value)}`} onClick={() => props.onFilter(field.name, top.value, true)} />
                  </EuiToolTip>
                </EuiFlexItem>
              </EuiFlexGroup>
            ))}
          </EuiAccordion>
        );
      })}
    </EuiPanel>
  );
}

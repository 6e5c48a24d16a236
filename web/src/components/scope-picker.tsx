import { EuiComboBox, EuiFlexGroup, EuiFlexItem, EuiSuperSelect, EuiTextColor } from '@elastic/eui';
import type { Scope } from '../api';
import { systemOptions, useRegisteredSystems } from '../systems';

const KINDS = [
  { value: 'events', inputDisplay: 'Events', dropdownDisplay: 'Events of information systems' },
  { value: 'personal-data', inputDisplay: 'Personal data', dropdownDisplay: 'Personal-data projections' },
  { value: 'rejections', inputDisplay: 'Rejections', dropdownDisplay: 'Rejected submissions' },
  { value: 'audit', inputDisplay: 'MLog audit', dropdownDisplay: "MLog's own audit trail" },
] as const;

/** What to search: every system's events, chosen systems (every registered one is offered), personal data, rejections or MLog's audit. */
export function ScopePicker(props: { scope: Scope; knownSystems: string[]; onChange: (scope: Scope) => void }) {
  const { scope } = props;
  const systems = scope.kind === 'events' ? (scope.systems ?? []) : [];
  const registered = useRegisteredSystems();
  const options = systemOptions(registered, [...props.knownSystems, ...systems]);
  return (
    <EuiFlexGroup gutterSize="s" responsive={false}>
      <EuiFlexItem grow={false} style={{ width: 170 }}>
        <EuiSuperSelect
          aria-label="Scope"
          data-test-subj="scopeKind"
          options={KINDS.map((kind) => ({ ...kind }))}
          valueOfSelected={scope.kind}
          onChange={(kind) => props.onChange(kind === 'events' ? { kind: 'events' } : ({ kind } as Scope))}
        />
      </EuiFlexItem>
      {scope.kind === 'events' && (
        <EuiFlexItem style={{ minWidth: 220 }}>
          <EuiComboBox
            aria-label="Systems"
            placeholder="All systems"
            data-test-subj="scopeSystems"
            options={options}
            renderOption={(option) => (
              <span>
                {option.label}
                {(option as { name?: string }).name !== undefined && <EuiTextColor color="subdued"> — {(option as { name?: string }).name}</EuiTextColor>}
              </span>
            )}
            selectedOptions={systems.map((code) => ({ label: code }))}
            onChange={(selected) => props.onChange({ kind: 'events', systems: selected.map((option) => option.label) })}
            onCreateOption={(code) => props.onChange({ kind: 'events', systems: [...systems, code.trim()] })}
            customOptionText="Add {searchValue} (system code)"
          />
        </EuiFlexItem>
      )}
    </EuiFlexGroup>
  );
}

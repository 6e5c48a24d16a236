import { EuiBadge, EuiLink } from '@elastic/eui';
import type { MouseEvent, ReactNode } from 'react';
import type { AlertRule } from '../api';
import { hrefOf, navigate } from '../router';
import { formatInstant } from '../values';

/** The address of a rule's history. */
export const historyHref = (id: string): string => `${hrefOf('alerts')}/${encodeURIComponent(id)}`;

/** An instant on the alert pages, to the second: `2026-11-29 10:55:00 UTC`. */
export const when = (iso: string | null | undefined): string => formatInstant(iso, 's');

/** An in-console link that does not reload the page. */
export function ConsoleLink(props: { href: string; children: ReactNode; subject?: string }) {
  return (
    <EuiLink
      href={props.href}
      data-test-subj={props.subject}
      onClick={(event: MouseEvent) => {
        if (event.metaKey || event.ctrlKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </EuiLink>
  );
}

/** The state of a rule as a badge: its active groups in red, OK, or disabled. */
export function RuleState({ rule }: { rule: AlertRule }) {
  const active = rule.state?.active_groups ?? 0;
  if (!rule.enabled) return <EuiBadge color="default">disabled</EuiBadge>;
  if (active > 0)
    return (
      <EuiBadge color="danger" data-test-subj="ruleActive">
        {active} active
      </EuiBadge>
    );
  return (
    <EuiBadge color="success" data-test-subj="ruleOk">
      OK
    </EuiBadge>
  );
}

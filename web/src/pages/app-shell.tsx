import {
  EuiAvatar,
  EuiBadge,
  EuiButton,
  EuiButtonEmpty,
  EuiFlexGroup,
  EuiFlexItem,
  EuiHeader,
  EuiHeaderLink,
  EuiHeaderLinks,
  EuiHeaderSection,
  EuiHeaderSectionItem,
  EuiHeaderSectionItemButton,
  EuiIcon,
  EuiLink,
  EuiPageTemplate,
  EuiPopover,
  EuiSpacer,
  EuiText,
  EuiToolTip,
} from '@elastic/eui';
import { useEffect, useState, type MouseEvent } from 'react';
import { hrefOf, navigate, type Location, type View } from '../router';
import { canRead, useSession } from '../session';
import { AdminsPage } from './admins-page';
import { AlertsPage } from './alerts-page';
import { AuditPage } from './audit-page';
import { CorrelationPage } from './correlation-page';
import { DashboardPage } from './dashboard-page';
import { DashboardsPage, NotAllowedPage } from './dashboards-page';
import { DiscoverPage } from './discover-page';

function link(view: View, label: string, current: View) {
  const href = hrefOf(view);
  return (
    <EuiHeaderLink
      key={view}
      href={href}
      isActive={current === view}
      onClick={(event: MouseEvent) => {
        event.preventDefault();
        navigate(href);
      }}
    >
      {label}
    </EuiHeaderLink>
  );
}

/** The account's menu: who is signed in, with which role, and the way out; always at the header's right end. */
function UserMenu(props: { username: string; role: string; onSignOut: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <EuiPopover
      isOpen={open}
      closePopover={() => setOpen(false)}
      anchorPosition="downRight"
      panelPaddingSize="m"
      button={
        <EuiHeaderSectionItemButton aria-label={`Account of ${props.username}: sign out`} aria-expanded={open} aria-haspopup="true" onClick={() => setOpen(!open)} data-test-subj="userMenuButton">
          <EuiAvatar name={props.username} size="s" />
        </EuiHeaderSectionItemButton>
      }
    >
      <div style={{ maxWidth: 280 }} data-test-subj="userMenu">
        <EuiFlexGroup gutterSize="s" alignItems="center" responsive={false}>
          <EuiFlexItem grow={false}>
            <EuiAvatar name={props.username} size="m" />
          </EuiFlexItem>
          <EuiFlexItem style={{ minWidth: 0 }}>
            <EuiText size="s" style={{ overflowWrap: 'anywhere' }}>
              <strong>{props.username}</strong>
            </EuiText>
            <div>
              <EuiBadge color="hollow">{props.role}</EuiBadge>
            </div>
          </EuiFlexItem>
        </EuiFlexGroup>
        <EuiSpacer size="m" />
        <EuiButton size="s" fullWidth iconType="logOut" onClick={props.onSignOut} data-test-subj="signOut">
          Sign out
        </EuiButton>
      </div>
    </EuiPopover>
  );
}

/** The header (views by role, the stated purpose, the account) over the current view. */
export function AppShell({ location }: { location: Location }) {
  const { session, askPurpose, signOut } = useSession();
  const reader = canRead(session);
  const view = location.view;

  useEffect(() => {
    if (view === 'home') navigate(hrefOf(reader ? 'discover' : 'dashboards'), true);
  }, [view, reader]);

  const allowed = view === 'home' || view === 'dashboards' || (view !== 'admins' ? reader : session.role === 'administrator');
  const dashboardId = view === 'dashboards' ? location.rest[0] : undefined;
  let page;
  if (!allowed) page = <NotAllowedPage />;
  else if (dashboardId !== undefined) page = <DashboardPage key={dashboardId} id={dashboardId} params={location.params} />;
  else if (view === 'discover') page = <DiscoverPage params={location.params} />;
  else if (view === 'correlation') page = <CorrelationPage params={location.params} />;
  else if (view === 'audit') page = <AuditPage params={location.params} />;
  else if (view === 'admins') page = <AdminsPage />;
  else if (view === 'alerts') page = <AlertsPage location={location} />;
  else page = <DashboardsPage />;

  return (
    <>
      <EuiHeader position="fixed" data-test-subj="consoleHeader">
        <EuiHeaderSection>
          <EuiHeaderSectionItem>
            <EuiLink
              href={hrefOf('home')}
              color="text"
              style={{ fontWeight: 700, padding: '0 12px', whiteSpace: 'nowrap', display: 'inline-flex', alignItems: 'center', gap: 8 }}
              onClick={(event: MouseEvent) => {
                event.preventDefault();
                navigate(hrefOf('home'));
              }}
            >
              <EuiIcon type="logoSecurity" size="l" />
              MLog
            </EuiLink>
          </EuiHeaderSectionItem>
          <EuiHeaderSectionItem>
            <EuiHeaderLinks>
              {reader && [link('discover', 'Discover', view), link('correlation', 'Correlation', view), link('audit', 'Audit trail', view), link('alerts', 'Alerts', view)]}
              {link('dashboards', 'Dashboards', view)}
              {session.role === 'administrator' && link('admins', 'Administrators', view)}
            </EuiHeaderLinks>
          </EuiHeaderSectionItem>
        </EuiHeaderSection>
        <EuiHeaderSection side="right" style={{ minWidth: 0, flexShrink: 1 }}>
          {reader && (
            <EuiHeaderSectionItem>
              {session.purpose === null ? (
                <EuiButtonEmpty size="s" iconType="question" color="warning" onClick={() => void askPurpose().catch(() => undefined)} data-test-subj="purposeMissing">
                  No purpose stated
                </EuiButtonEmpty>
              ) : (
                <EuiToolTip content={`Purpose: ${session.purpose.legal_basis} — ${session.purpose.reason} (click to change)`}>
                  <EuiButtonEmpty size="s" iconType="pencil" color="primary" onClick={() => void askPurpose().catch(() => undefined)} data-test-subj="purpose" style={{ maxWidth: '100%' }}>
                    {/* The purpose gives way to the account: at most 420 px, less on a narrow screen. */}
                    <EuiText size="xs" style={{ maxWidth: 'min(420px, max(96px, calc(100vw - 880px)))', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                      Purpose: {session.purpose.legal_basis} — {session.purpose.reason}
                    </EuiText>
                  </EuiButtonEmpty>
                </EuiToolTip>
              )}
            </EuiHeaderSectionItem>
          )}
          <EuiHeaderSectionItem>
            <UserMenu username={session.username} role={session.role} onSignOut={signOut} />
          </EuiHeaderSectionItem>
        </EuiHeaderSection>
      </EuiHeader>
      <EuiPageTemplate panelled={false} restrictWidth={false} offset={48}>
        <EuiPageTemplate.Section paddingSize="m" restrictWidth={false}>
          {page}
        </EuiPageTemplate.Section>
      </EuiPageTemplate>
    </>
  );
}

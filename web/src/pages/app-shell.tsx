import { EuiAvatar, EuiBadge, EuiButtonEmpty, EuiHeader, EuiHeaderLink, EuiHeaderLinks, EuiHeaderSection, EuiHeaderSectionItem, EuiIcon, EuiLink, EuiPageTemplate, EuiText, EuiToolTip } from '@elastic/eui';
import { useEffect, type MouseEvent } from 'react';
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
        <EuiHeaderSection side="right">
          {reader && (
            <EuiHeaderSectionItem>
              {session.purpose === null ? (
                <EuiButtonEmpty size="s" iconType="question" color="warning" onClick={() => void askPurpose().catch(() => undefined)} data-test-subj="purposeMissing">
                  No purpose stated
                </EuiButtonEmpty>
              ) : (
                <EuiToolTip content={`${session.purpose.legal_basis} — ${session.purpose.reason}`}>
                  <EuiButtonEmpty size="s" iconType="pencil" color="primary" onClick={() => void askPurpose().catch(() => undefined)} data-test-subj="purpose">
                    <EuiText size="xs" style={{ maxWidth: 420, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                      Purpose: {session.purpose.legal_basis} — {session.purpose.reason}
                    </EuiText>
                  </EuiButtonEmpty>
                </EuiToolTip>
              )}
            </EuiHeaderSectionItem>
          )}
          <EuiHeaderSectionItem>
            <EuiBadge color="hollow">{session.role}</EuiBadge>
          </EuiHeaderSectionItem>
          <EuiHeaderSectionItem>
            <EuiAvatar name={session.username} size="s" />
            &nbsp;
            <EuiButtonEmpty size="s" color="text" iconType="logOut" onClick={signOut} data-test-subj="signOut">
              Sign out {session.username}
            </EuiButtonEmpty>
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

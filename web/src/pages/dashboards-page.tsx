import { EuiPageTemplate } from '@elastic/eui';

/** What a viewer sees until MLog has dashboards; also the page for a view the role does not allow. */
export function DashboardsPage({ denied = false }: { denied?: boolean }) {
  return (
    <EuiPageTemplate.EmptyPrompt
      iconType={denied ? 'lock' : 'dashboardApp'}
      title={<h2>{denied ? 'Not available to your role' : 'Dashboards'}</h2>}
      body={
        <p>
          {denied
            ? 'Your role does not allow this view. Ask an administrator if you need it.'
            : 'Dashboards of aggregates (events by system and type, rejections) arrive in a later version of MLog. Viewers see aggregates only, never the contents of events.'}
        </p>
      }
    />
  );
}

import {
  EuiBadge,
  EuiBasicTable,
  EuiButton,
  EuiButtonEmpty,
  EuiCallOut,
  EuiConfirmModal,
  EuiFieldText,
  EuiFilePicker,
  EuiFlexGroup,
  EuiFlexItem,
  EuiForm,
  EuiFormRow,
  EuiLink,
  EuiModal,
  EuiModalBody,
  EuiModalFooter,
  EuiModalHeader,
  EuiModalHeaderTitle,
  EuiPageTemplate,
  EuiSpacer,
  EuiText,
  type EuiBasicTableColumn,
} from '@elastic/eui';
import { useCallback, useEffect, useState, type FormEvent, type MouseEvent } from 'react';
import { api, ApiError } from '../api';
import { copyTitle, definitionOf, emptyDashboard, type DashboardSummary } from '../dashboards';
import { saveResponse } from '../download';
import { dashboardHref, navigate } from '../router';
import { useSession } from '../session';
import { formatInstant } from '../values';

/** The page for a view the role does not allow. */
export function NotAllowedPage() {
  return (
    <EuiPageTemplate.EmptyPrompt
      iconType="lock"
      title={<h2>Not available to your role</h2>}
      body={<p>Your role does not allow this view. Ask an administrator if you need it.</p>}
    />
  );
}

function CreateModal(props: { onClose: () => void; onCreated: (id: string) => void }) {
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.createDashboard(definitionOf({ ...emptyDashboard(title.trim()), description: description.trim() }, false));
      props.onCreated(created.id);
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <EuiModal onClose={props.onClose} data-test-subj="createDashboardModal">
      <EuiModalHeader>
        <EuiModalHeaderTitle>New dashboard</EuiModalHeaderTitle>
      </EuiModalHeader>
      <EuiModalBody>
        <EuiForm component="form" id="createDashboard" onSubmit={create}>
          {error !== undefined && <EuiCallOut color="danger" size="s" iconType="error" title={error} />}
          <EuiFormRow label="Title">
            <EuiFieldText name="title" value={title} onChange={(event) => setTitle(event.target.value)} autoFocus data-test-subj="newDashboardTitle" />
          </EuiFormRow>
          <EuiFormRow label="Description (optional)">
            <EuiFieldText name="description" value={description} onChange={(event) => setDescription(event.target.value)} />
          </EuiFormRow>
        </EuiForm>
      </EuiModalBody>
      <EuiModalFooter>
        <EuiButtonEmpty onClick={props.onClose}>Cancel</EuiButtonEmpty>
        <EuiButton type="submit" form="createDashboard" fill isLoading={busy} disabled={title.trim() === ''} data-test-subj="createDashboardSubmit">
          Create and add panels
        </EuiButton>
      </EuiModalFooter>
    </EuiModal>
  );
}

function ImportModal(props: { onClose: () => void; onImported: (ids: string[]) => void }) {
  const [file, setFile] = useState<unknown>();
  const [fileName, setFileName] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);

  const read = async (files: FileList | null) => {
    setError(undefined);
    setFile(undefined);
    const chosen = files?.[0];
    setFileName(chosen?.name);
    if (chosen === undefined) return;
    try {
      setFile(JSON.parse(await chosen.text()));
    } catch {
      setError(new ApiError(400, `${chosen.name} is not JSON: choose a file exported from MLog's dashboards.`));
    }
  };

  const send = async (overwrite: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.importDashboards(file, overwrite);
      props.onImported(answer.imported);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, (caught as Error).message));
    } finally {
      setBusy(false);
    }
  };

  return (
    <EuiModal onClose={props.onClose} data-test-subj="importModal">
      <EuiModalHeader>
        <EuiModalHeaderTitle>Import dashboards</EuiModalHeaderTitle>
      </EuiModalHeader>
      <EuiModalBody>
        <EuiText size="s">
          <p>A file exported from MLog (one dashboard or all of them). A dashboard whose id exists already is only replaced when you say so.</p>
        </EuiText>
        <EuiSpacer size="s" />
        <EuiFilePicker accept="application/json,.json" initialPromptText="Choose or drop an export file" onChange={(files) => void read(files)} display="large" data-test-subj="importFile" />
        {error !== undefined && (
          <>
            <EuiSpacer size="s" />
            <EuiCallOut color={error.status === 409 ? 'warning' : 'danger'} iconType="error" size="s" title={error.message} data-test-subj="importError">
              {error.status === 409 && (
                <EuiButton size="s" color="warning" isLoading={busy} onClick={() => void send(true)} data-test-subj="importOverwrite">
                  Import and overwrite
                </EuiButton>
              )}
            </EuiCallOut>
          </>
        )}
      </EuiModalBody>
      <EuiModalFooter>
        <EuiButtonEmpty onClick={props.onClose}>Cancel</EuiButtonEmpty>
        <EuiButton fill isLoading={busy} disabled={file === undefined} onClick={() => void send(false)} data-test-subj="importSubmit">
          Import {fileName ?? ''}
        </EuiButton>
      </EuiModalFooter>
    </EuiModal>
  );
}

/** Every dashboard, by title; administrators also create, copy, delete, export and import them. */
export function DashboardsPage() {
  const { session, notify } = useSession();
  const administrator = session.role === 'administrator';
  const [dashboards, setDashboards] = useState<DashboardSummary[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [deleting, setDeleting] = useState<DashboardSummary | undefined>();

  const load = useCallback(() => {
    api.dashboards().then(
      (answer) => {
        setDashboards(answer.dashboards);
        setError(undefined);
      },
      (caught: Error) => setError(caught.message),
    );
  }, []);
  useEffect(load, [load]);

  const open = (id: string) => navigate(dashboardHref(id));

  const copy = async (dashboard: DashboardSummary) => {
    try {
      const copied = await api.copyDashboard(dashboard.id, copyTitle(dashboard.title));
      notify(`“${copied.title}” created`, undefined, 'success');
      load();
    } catch (caught) {
      notify(`“${dashboard.title}” was not copied`, (caught as Error).message);
    }
  };

  const remove = async (dashboard: DashboardSummary) => {
    setDeleting(undefined);
    try {
      await api.deleteDashboard(dashboard.id);
      notify(`“${dashboard.title}” deleted`, undefined, 'success');
      load();
    } catch (caught) {
      notify(`“${dashboard.title}” was not deleted`, (caught as Error).message);
    }
  };

  const exportFile = async (id?: string) => {
    try {
      await saveResponse(await api.exportDashboards(id), id === undefined ? 'mlog-dashboards.json' : `mlog-dashboard-${id}.json`);
    } catch (caught) {
      notify('The export failed', (caught as Error).message);
    }
  };

  const columns: EuiBasicTableColumn<DashboardSummary>[] = [
    {
      field: 'title',
      name: 'Title',
      width: '26%',
      render: (title: string, dashboard: DashboardSummary) => (
        <span>
          <EuiLink href={dashboardHref(dashboard.id)} onClick={(event: MouseEvent) => (event.preventDefault(), open(dashboard.id))} data-test-subj="dashboardLink">
            {title}
          </EuiLink>
          {dashboard.shipped && (
            <>
              {' '}
              <EuiBadge color="hollow">shipped</EuiBadge>
            </>
          )}
        </span>
      ),
    },
    { field: 'description', name: 'Description', truncateText: true },
    { field: 'panel_count', name: 'Panels', width: '80px', align: 'right' },
    {
      name: 'Updated',
      width: '200px',
      render: (dashboard: DashboardSummary) => (
        <EuiText size="xs">
          {formatInstant(dashboard.updated_at, 's')}
          <br />
          <span style={{ opacity: 0.7 }}>by {dashboard.updated_by}</span>
        </EuiText>
      ),
    },
    {
      name: '',
      width: administrator ? '300px' : '80px',
      render: (dashboard: DashboardSummary) => (
        <EuiFlexGroup gutterSize="xs" responsive={false} justifyContent="flexEnd">
          <EuiButtonEmpty size="xs" iconType="eye" onClick={() => open(dashboard.id)}>
            Open
          </EuiButtonEmpty>
          {administrator && (
            <>
              <EuiButtonEmpty size="xs" iconType="copy" onClick={() => void copy(dashboard)} data-test-subj="copyDashboard">
                Copy
              </EuiButtonEmpty>
              <EuiButtonEmpty size="xs" iconType="export" onClick={() => void exportFile(dashboard.id)} data-test-subj="exportDashboard">
                Export
              </EuiButtonEmpty>
              <EuiButtonEmpty size="xs" iconType="trash" color="danger" onClick={() => setDeleting(dashboard)} data-test-subj="deleteDashboard">
                Delete
              </EuiButtonEmpty>
            </>
          )}
        </EuiFlexGroup>
      ),
    },
  ];

  return (
    <>
      <EuiPageTemplate.Header
        pageTitle="Dashboards"
        description={administrator ? 'Aggregates of the record: events over time, top values, metrics and system health. Viewers see aggregates only, never the contents of events.' : 'Aggregates of the record: events over time, top values, metrics and system health.'}
        bottomBorder={false}
        rightSideItems={
          administrator
            ? [
                <EuiButton key="create" fill iconType="plusCircle" onClick={() => setCreating(true)} data-test-subj="createDashboard">
                  Create dashboard
                </EuiButton>,
                <EuiButton key="import" iconType="upload" onClick={() => setImporting(true)} data-test-subj="importDashboards">
                  Import
                </EuiButton>,
                <EuiButtonEmpty key="export" iconType="export" onClick={() => void exportFile()} data-test-subj="exportAllDashboards">
                  Export all
                </EuiButtonEmpty>,
              ]
            : []
        }
      />
      {error !== undefined && <EuiCallOut color="danger" iconType="error" title={error} data-test-subj="dashboardsError" />}
      <EuiBasicTable<DashboardSummary>
        items={dashboards ?? []}
        loading={dashboards === undefined && error === undefined}
        itemId="id"
        columns={columns}
        tableLayout="fixed"
        noItemsMessage={dashboards === undefined ? 'Loading dashboards…' : 'No dashboards yet.'}
        data-test-subj="dashboardsTable"
      />
      {creating && <CreateModal onClose={() => setCreating(false)} onCreated={(id) => navigate(dashboardHref(id, { edit: '1' }))} />}
      {importing && (
        <ImportModal
          onClose={() => setImporting(false)}
          onImported={(ids) => {
            setImporting(false);
            notify(`${ids.length} ${ids.length === 1 ? 'dashboard' : 'dashboards'} imported`, ids.join(', '), 'success');
            load();
          }}
        />
      )}
      {deleting !== undefined && (
        <EuiConfirmModal
          title={`Delete “${deleting.title}”?`}
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => void remove(deleting)}
          cancelButtonText="Keep it"
          confirmButtonText="Delete"
          buttonColor="danger"
          defaultFocusedButton="cancel"
          data-test-subj="deleteDashboardModal"
        >
          <p>
            Its {deleting.panel_count} {deleting.panel_count === 1 ? 'panel goes' : 'panels go'} with it; the events it showed stay in the record.
            {deleting.shipped ? ' MLog installs its shipped dashboards again at the next start.' : ''}
          </p>
        </EuiConfirmModal>
      )}
    </>
  );
}

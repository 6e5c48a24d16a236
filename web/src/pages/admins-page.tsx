import {
  EuiBasicTable,
  EuiButton,
  EuiButtonEmpty,
  EuiCallOut,
  EuiFieldPassword,
  EuiFieldText,
  EuiFlexGroup,
  EuiFlexItem,
  EuiForm,
  EuiFormRow,
  EuiHealth,
  EuiPageTemplate,
  EuiPanel,
  EuiSelect,
  EuiSpacer,
  EuiTitle,
} from '@elastic/eui';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, type AdminAccount, type Role } from '../api';
import { useSession } from '../session';

const ROLES: Role[] = ['viewer', 'auditor', 'administrator'];
const roleOptions = ROLES.map((role) => ({ value: role, text: role }));

/** The console's accounts: add one, change a role, disable, set a new password. */
export function AdminsPage() {
  const { session, notify } = useSession();
  const [admins, setAdmins] = useState<AdminAccount[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('auditor');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api.admins().then((answer) => setAdmins(answer.admins), (caught: Error) => setError(caught.message));
  }, []);
  useEffect(load, [load]);

  const change = async (account: AdminAccount, patch: { role?: Role; disabled?: boolean; password?: string }, done: string) => {
    try {
      await api.changeAdmin(account.username, patch);
      notify(done, undefined, 'success');
      load();
    } catch (caught) {
      notify(`${account.username} was not changed`, (caught as Error).message);
    }
  };

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await api.addAdmin({ username: username.trim(), role, password });
      notify(`${username.trim()} added as ${role}`, undefined, 'success');
      setUsername('');
      setPassword('');
      load();
    } catch (caught) {
      notify('The account was not added', (caught as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <EuiPageTemplate.Header pageTitle="Administrators" description="Named accounts of the console, each with one role: viewer (dashboards only), auditor (search, view, correlate, export, audit trail) or administrator." bottomBorder={false} />
      {error !== undefined && <EuiCallOut color="danger" iconType="error" title={error} />}
      <EuiBasicTable<AdminAccount>
        items={admins ?? []}
        loading={admins === undefined && error === undefined}
        itemId="username"
        columns={[
          { field: 'username', name: 'Username' },
          {
            name: 'Role',
            width: '180px',
            render: (account: AdminAccount) => (
              <EuiSelect
                compressed
                aria-label={`Role of ${account.username}`}
                options={roleOptions}
                value={account.role}
                disabled={account.username === session.username}
                onChange={(event) => void change(account, { role: event.target.value as Role }, `${account.username} is now ${event.target.value}`)}
              />
            ),
          },
          { field: 'source', name: 'Sign-in', width: '90px' },
          { name: 'State', width: '110px', render: (account: AdminAccount) => <EuiHealth color={account.disabled ? 'subdued' : 'success'}>{account.disabled ? 'disabled' : 'active'}</EuiHealth> },
          { field: 'createdAt', name: 'Created', width: '220px' },
          {
            name: '',
            width: '260px',
            render: (account: AdminAccount) => (
              <EuiFlexGroup gutterSize="xs" responsive={false}>
                <EuiButtonEmpty
                  size="xs"
                  disabled={account.username === session.username}
                  onClick={() => void change(account, { disabled: !account.disabled }, `${account.username} ${account.disabled ? 'enabled' : 'disabled'}`)}
                >
                  {account.disabled ? 'Enable' : 'Disable'}
                </EuiButtonEmpty>
                {account.source === 'local' && (
                  <EuiButtonEmpty
                    size="xs"
                    onClick={() => {
                      const next = window.prompt(`New password for ${account.username}`);
                      if (next !== null && next !== '') void change(account, { password: next }, `Password of ${account.username} changed`);
                    }}
                  >
                    Set password
                  </EuiButtonEmpty>
                )}
              </EuiFlexGroup>
            ),
          },
        ]}
      />
      <EuiSpacer />
      <EuiPanel hasBorder paddingSize="m" style={{ maxWidth: 720 }}>
        <EuiTitle size="xs">
          <h3>Add a local account</h3>
        </EuiTitle>
        <EuiSpacer size="s" />
        <EuiForm component="form" onSubmit={add}>
          <EuiFlexGroup gutterSize="s" alignItems="flexEnd">
            <EuiFlexItem>
              <EuiFormRow label="Username">
                <EuiFieldText value={username} onChange={(event) => setUsername(event.target.value)} autoComplete="off" />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false} style={{ width: 160 }}>
              <EuiFormRow label="Role">
                <EuiSelect options={roleOptions} value={role} onChange={(event) => setRole(event.target.value as Role)} />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem>
              <EuiFormRow label="Password">
                <EuiFieldPassword type="dual" value={password} onChange={(event) => setPassword(event.target.value)} autoComplete="new-password" />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false}>
              <EuiButton type="submit" fill isLoading={busy} disabled={username.trim() === '' || password === ''}>
                Add
              </EuiButton>
            </EuiFlexItem>
          </EuiFlexGroup>
        </EuiForm>
      </EuiPanel>
    </>
  );
}

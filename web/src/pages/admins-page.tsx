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
import { api, ApiError, type AdminAccount, type Role } from '../api';
import { useSession } from '../session';

const ROLES: Role[] = ['viewer', 'auditor', 'administrator'];
const roleOptions = ROLES.map((role) => ({ value: role, text: role }));

type AddField = 'username' | 'role' | 'password' | 'form';

/** The field of the form MLog's refusal is about: it names the field first ("password" must be…), a taken name answers 409. */
function fieldOfRefusal(error: unknown): AddField {
  const message = error instanceof Error ? error.message : '';
  const named = /^"(username|role|password)"/.exec(message)?.[1] as AddField | undefined;
  if (named !== undefined) return named;
  if (error instanceof ApiError && error.status === 409) return 'username';
  return 'form';
}

/** The console's accounts: add one, change a role, disable, set a new password. */
export function AdminsPage() {
  const { session, notify } = useSession();
  const [admins, setAdmins] = useState<AdminAccount[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('auditor');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [addError, setAddError] = useState<{ field: AddField; message: string } | undefined>();

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
    setAddError(undefined);
    try {
      await api.addAdmin({ username: username.trim(), role, password });
      notify(`${username.trim()} added as ${role}`, undefined, 'success');
      setUsername('');
      setPassword('');
      load();
    } catch (caught) {
      // The refusal stands under the field it is about, where the person is looking.
      setAddError({ field: fieldOfRefusal(caught), message: (caught as Error).message });
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
        <EuiForm
          component="form"
          onSubmit={add}
          isInvalid={addError?.field === 'form'}
          error={addError?.field === 'form' ? [addError.message] : undefined}
          invalidCallout={addError?.field === 'form' ? 'above' : 'none'}
          data-test-subj="addAdminForm"
        >
          <EuiFlexGroup gutterSize="s" alignItems="flexStart">
            <EuiFlexItem>
              <EuiFormRow label="Username" isInvalid={addError?.field === 'username'} error={addError?.field === 'username' ? addError.message : undefined}>
                <EuiFieldText
                  value={username}
                  isInvalid={addError?.field === 'username'}
                  onChange={(event) => {
                    setUsername(event.target.value);
                    if (addError?.field === 'username') setAddError(undefined);
                  }}
                  autoComplete="off"
                  data-test-subj="addAdminUsername"
                />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false} style={{ width: 160 }}>
              <EuiFormRow label="Role" isInvalid={addError?.field === 'role'} error={addError?.field === 'role' ? addError.message : undefined}>
                <EuiSelect options={roleOptions} value={role} isInvalid={addError?.field === 'role'} onChange={(event) => setRole(event.target.value as Role)} />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem>
              <EuiFormRow label="Password" isInvalid={addError?.field === 'password'} error={addError?.field === 'password' ? addError.message : undefined}>
                <EuiFieldPassword
                  type="dual"
                  value={password}
                  isInvalid={addError?.field === 'password'}
                  onChange={(event) => {
                    setPassword(event.target.value);
                    if (addError?.field === 'password') setAddError(undefined);
                  }}
                  autoComplete="new-password"
                  data-test-subj="addAdminPassword"
                />
              </EuiFormRow>
            </EuiFlexItem>
            <EuiFlexItem grow={false} style={{ paddingTop: 22 }}>
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

import { EuiButton, EuiCallOut, EuiFieldPassword, EuiFieldText, EuiForm, EuiFormRow, EuiHorizontalRule, EuiIcon, EuiPageTemplate, EuiPanel, EuiSpacer, EuiText, EuiTitle } from '@elastic/eui';
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type Session } from '../api';

/** Sign-in with a local account, or through the identity provider when MLog has OpenID Connect. */
export function SignInPage(props: { next: string; onSignedIn: (session: Session, next: string) => void; onOidc: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [oidc, setOidc] = useState(false);

  useEffect(() => {
    api.config().then((config) => setOidc(config.oidc === true), () => setOidc(false));
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (username.trim() === '' || password === '') {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await api.signIn(username.trim(), password);
      setPassword('');
      props.onSignedIn(session, props.next);
    } catch (caught) {
      const failure = caught as ApiError;
      if (failure.status === 429) {
        const minutes = failure.retryAfter === undefined ? undefined : Math.ceil(Number(failure.retryAfter) / 60);
        setError(`${failure.message}${minutes !== undefined && Number.isFinite(minutes) ? ` Try again in ${minutes} min.` : ''}`);
      } else setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <EuiPageTemplate panelled={false} grow>
      <EuiPageTemplate.Section alignment="center" grow>
        <EuiPanel paddingSize="l" style={{ width: 400 }} hasShadow>
          <EuiTitle size="m">
            <h1>
              <EuiIcon type="logoSecurity" size="l" /> MLog console
            </h1>
          </EuiTitle>
          <EuiSpacer size="s" />
          <EuiText size="s" color="subdued">
            <p>Search, analyse and correlate the events of every information system. Every search is recorded with its purpose.</p>
          </EuiText>
          <EuiSpacer />
          {error !== undefined && (
            <>
              <EuiCallOut title="Sign-in failed" color="danger" iconType="error" role="alert" data-test-subj="signInError">
                <p>{error}</p>
              </EuiCallOut>
              <EuiSpacer />
            </>
          )}
          <EuiForm component="form" onSubmit={submit}>
            <EuiFormRow label="Username">
              <EuiFieldText name="username" icon="user" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            </EuiFormRow>
            <EuiFormRow label="Password">
              <EuiFieldPassword name="password" type="dual" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </EuiFormRow>
            <EuiSpacer />
            <EuiButton type="submit" fill fullWidth isLoading={busy} iconType="lock" data-test-subj="signIn">
              Sign in
            </EuiButton>
          </EuiForm>
          {oidc && (
            <>
              <EuiHorizontalRule margin="m" />
              <EuiButton fullWidth iconType="globe" href={api.oidcLoginUrl()} onClick={props.onOidc} data-test-subj="signInOidc">
                Sign in with OpenID Connect
              </EuiButton>
            </>
          )}
        </EuiPanel>
      </EuiPageTemplate.Section>
    </EuiPageTemplate>
  );
}

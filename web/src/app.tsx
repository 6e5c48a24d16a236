import { EuiGlobalToastList, EuiLoadingSpinner, EuiPageTemplate } from '@elastic/eui';
import type { EuiGlobalToastListToast as Toast } from '@elastic/eui';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, onSignedOut, rememberCsrfToken, type Purpose, type Session } from './api';
import { AppShell } from './pages/app-shell';
import { PurposeModal } from './pages/purpose-modal';
import { SignInPage } from './pages/sign-in-page';
import { hrefOf, navigate, safeReturnPath, useLocation } from './router';
import { SessionContext, type SessionContextValue } from './session';

const RETURN_KEY = 'mlog-console-return';

/** Signed out → sign-in (remembering the view); signed in → the console, with the purpose dialog on demand. */
export function App() {
  const location = useLocation();
  const [session, setSessionState] = useState<Session | null | undefined>(undefined);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [purposeOpen, setPurposeOpen] = useState(false);
  const purposeWaiters = useRef<{ resolve: (purpose: Purpose) => void; reject: (error: Error) => void }[]>([]);

  const setSession = useCallback((next: Session | null) => {
    rememberCsrfToken(next?.csrfToken);
    setSessionState(next);
  }, []);

  const notify = useCallback((title: string, text?: string, color: 'success' | 'danger' | 'warning' = 'danger') => {
    setToasts((list) => [...list, { id: `${Date.now()}-${list.length}`, title, text, color }]);
  }, []);

  const toSignIn = useCallback(() => {
    const here = `${window.location.pathname}${window.location.search}`;
    setSession(null);
    navigate(hrefOf('sign-in', { next: safeReturnPath(here) }), true);
  }, [setSession]);

  useEffect(() => onSignedOut(toSignIn), [toSignIn]);

  useEffect(() => {
    api.session().then(
      (answer) => {
        setSession(answer);
        // After an OpenID Connect round trip MLog lands on /console/: go back to the view left behind.
        const back = sessionStorage.getItem(RETURN_KEY);
        if (back !== null) {
          sessionStorage.removeItem(RETURN_KEY);
          navigate(safeReturnPath(back), true);
        }
      },
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 401) toSignIn();
        else {
          setSession(null);
          navigate(hrefOf('sign-in', { next: safeReturnPath(`${window.location.pathname}${window.location.search}`) }), true);
          notify('MLog cannot be reached', (error as Error).message);
        }
      },
    );
  }, [setSession, toSignIn, notify]);

  const askPurpose = useCallback(
    () =>
      new Promise<Purpose>((resolve, reject) => {
        purposeWaiters.current.push({ resolve, reject });
        setPurposeOpen(true);
      }),
    [],
  );

  const closePurpose = (purpose: Purpose | undefined) => {
    setPurposeOpen(false);
    const waiters = purposeWaiters.current;
    purposeWaiters.current = [];
    for (const waiter of waiters) {
      if (purpose === undefined) waiter.reject(new Error('No purpose was stated.'));
      else waiter.resolve(purpose);
    }
  };

  const signOut = useCallback(() => {
    api.signOut().finally(() => {
      setSession(null);
      navigate(hrefOf('sign-in'), true);
    });
  }, [setSession]);

  const toastList = <EuiGlobalToastList toasts={toasts} dismissToast={(toast) => setToasts((list) => list.filter((t) => t.id !== toast.id))} toastLifeTimeMs={8000} />;

  if (session === undefined) {
    return (
      <EuiPageTemplate panelled={false}>
        <EuiPageTemplate.EmptyPrompt icon={<EuiLoadingSpinner size="xl" />} title={<h2>MLog console</h2>} />
      </EuiPageTemplate>
    );
  }

  if (session === null || location.view === 'sign-in') {
    return (
      <>
        <SignInPage
          next={safeReturnPath(location.params.get('next'))}
          onSignedIn={(answer, next) => {
            setSession(answer);
            navigate(next, true);
          }}
          onOidc={() => sessionStorage.setItem(RETURN_KEY, safeReturnPath(location.params.get('next')))}
        />
        {toastList}
      </>
    );
  }

  const context: SessionContextValue = { session, askPurpose, setSession, signOut, notify };
  return (
    <SessionContext.Provider value={context}>
      <AppShell location={location} />
      {purposeOpen && <PurposeModal current={session.purpose} onClose={closePurpose} />}
      {toastList}
    </SessionContext.Provider>
  );
}

import { createContext, useContext } from 'react';
import type { Purpose, Session } from './api';

export interface SessionContextValue {
  session: Session;
  /** Opens the purpose dialog; resolves once a purpose is stated (or rejects when it is cancelled). */
  askPurpose: () => Promise<Purpose>;
  setSession: (session: Session) => void;
  signOut: () => void;
  notify: (title: string, text?: string, color?: 'success' | 'danger' | 'warning') => void;
}

export const SessionContext = createContext<SessionContextValue | undefined>(undefined);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (value === undefined) throw new Error('useSession outside a signed-in console');
  return value;
}

export const canRead = (session: Session): boolean => session.role === 'auditor' || session.role === 'administrator';

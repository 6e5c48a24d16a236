import { useCallback, useRef } from 'react';
import { ApiError } from './api';
import { useSession } from './session';

/**
 * Runs a call that reads the record: asks for the purpose first when the session has none, and again
 * when MLog answers 428 (the purpose was not there after all), then repeats the call once. The
 * returned function stays the same when the purpose changes, so stating one does not search twice.
 */
export function useReading() {
  const { session, askPurpose } = useSession();
  const hasPurpose = useRef(session.purpose !== null);
  hasPurpose.current = session.purpose !== null;
  return useCallback(
    async <T,>(call: () => Promise<T>): Promise<T> => {
      if (!hasPurpose.current) await askPurpose();
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 428) throw error;
        await askPurpose();
        return call();
      }
    },
    [askPurpose],
  );
}

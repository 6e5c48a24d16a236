import { useEffect, useState } from 'react';
import { api, type SystemSummary } from './api';

let registered: Promise<SystemSummary[]> | undefined;

/**
 * Every registered information system (GET /console/api/systems), read once per page load and shared
 * by the pickers; an empty list when MLog cannot give it, the pickers then offering the systems seen.
 */
export function useRegisteredSystems(): SystemSummary[] {
  const [systems, setSystems] = useState<SystemSummary[]>([]);
  useEffect(() => {
    let live = true;
    registered ??= api.systems().then(
      (answer) => answer.systems,
      () => {
        registered = undefined;
        return [];
      },
    );
    void registered.then((list) => {
      if (live) setSystems(list);
    });
    return () => {
      live = false;
    };
  }, []);
  return systems;
}

/** The options of a system picker: the registered systems with their names, and any other code seen or chosen. */
export function systemOptions(registeredSystems: SystemSummary[], otherCodes: string[]): { label: string; key: string; name?: string }[] {
  const names = new Map(registeredSystems.map((system) => [system.code, system.name]));
  const codes = [...new Set([...registeredSystems.map((system) => system.code), ...otherCodes.filter((code) => code !== '')])].sort();
  return codes.map((code) => ({ label: code, key: code, ...(names.get(code) === undefined ? {} : { name: names.get(code) }) }));
}

import { Router } from 'express';
import { describeSystem } from '../../systems/information-system.js';
import { parseNewSystem, parseSystemChanges } from '../../systems/system-schemas.js';
import type { SystemRegistry } from '../../systems/system-registry.js';
import { envelope } from '../envelope.js';

/** POST/GET /admin/systems, GET/PATCH/DELETE /admin/systems/{code}. Answers never include certificates' PEM bodies. */
export function systemRoutes(registry: SystemRegistry): Router {
  const router = Router();
  router.post('/admin/systems', async (request, response) => {
    const system = await registry.add(parseNewSystem(request.body));
    response.status(201).json(envelope(201, `Information system "${system.code}" is registered.`, { system: describeSystem(system) }));
  });
  router.get('/admin/systems', async (_request, response) => {
    const systems = await registry.list();
    response.status(200).json(envelope(200, 'OK', { systems: systems.map(describeSystem) }));
  });
  router.get('/admin/systems/:code', async (request, response) => {
    const system = await registry.get(String(request.params.code));
    response.status(200).json(envelope(200, 'OK', { system: describeSystem(system) }));
  });
  router.patch('/admin/systems/:code', async (request, response) => {
    const system = await registry.update(String(request.params.code), parseSystemChanges(request.body));
    response.status(200).json(envelope(200, `Information system "${system.code}" is changed.`, { system: describeSystem(system) }));
  });
  router.delete('/admin/systems/:code', async (request, response) => {
    const code = String(request.params.code);
    await registry.remove(code);
    response.status(200).json(envelope(200, `Information system "${code}" is removed from the registry; its events are kept.`));
  });
  return router;
}

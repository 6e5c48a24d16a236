import { Router } from 'express';
import type { AlertRulesService } from '../../alerts/alert-rules-service.js';
import { clientAddress } from '../console/console-session.js';
import { envelope } from '../envelope.js';

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Who changes rules through the administration API, as rules and logs name them. */
const ADMIN_API = 'admin-api';

/**
 * /admin/alert-rules and /admin/alerts (docs/api.md, "Alert rules"), behind the admin token: the
 * rules, their mute, their history and the alerts active now.
 */
export function alertRuleRoutes(alerts: AlertRulesService): Router {
  const router = Router();
  router.get('/admin/alert-rules', async (_request, response) => {
    response.status(200).json(envelope(200, 'OK', { rules: await alerts.list() }));
  });
  router.post('/admin/alert-rules', async (request, response) => {
    const rule = await alerts.create(request.body, ADMIN_API);
    response.status(201).json(envelope(201, `Alert rule "${rule.id}" is created.`, { rule }));
  });
  router.get('/admin/alert-rules/:id', async (request, response) => {
    response.status(200).json(envelope(200, 'OK', { rule: await alerts.get(String(request.params.id)) }));
  });
  router.put('/admin/alert-rules/:id', async (request, response) => {
    const rule = await alerts.replace(String(request.params.id), request.body, ADMIN_API);
    response.status(200).json(envelope(200, `Alert rule "${rule.id}" is changed.`, { rule }));
  });
  router.delete('/admin/alert-rules/:id', async (request, response) => {
    await alerts.remove(String(request.params.id));
    response.status(204).end();
  });
  router.put('/admin/alert-rules/:id/mute', async (request, response) => {
    const rule = await alerts.mute(String(request.params.id), (request.body as { until?: unknown } | undefined)?.until ?? '', ADMIN_API);
    response.status(200).json(envelope(200, `Alert rule "${rule.id}" is muted until ${rule.muted_until}.`, { rule }));
  });
  router.delete('/admin/alert-rules/:id/mute', async (request, response) => {
    const rule = await alerts.mute(String(request.params.id), null, ADMIN_API);
    response.status(200).json(envelope(200, `Alert rule "${rule.id}" is no longer muted.`, { rule }));
  });
  router.get('/admin/alert-rules/:id/history', async (request, response) => {
    const page = await alerts.history(String(request.params.id), { size: single(request.query.size), after: single(request.query.after) }, { user: ADMIN_API, address: clientAddress(request) });
    response.status(200).json(envelope(200, 'OK', { ...page }));
  });
  router.get('/admin/alerts', async (_request, response) => {
    response.status(200).json(envelope(200, 'OK', { alerts: await alerts.active() }));
  });
  return router;
}

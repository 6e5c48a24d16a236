import { Router } from 'express';
import type { AlertRulesService } from '../../alerts/alert-rules-service.js';
import { currentActor, requireAction } from './console-session.js';

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The console's alert rules (docs/console-api.md, "Alert rules"), relative to /console/api behind the
 * session and CSRF checks: reads for auditors and up, changes for administrators. Reading a rule's
 * history is recorded as MLog.Admin.Query (action "alert-history").
 */
export function consoleAlertRuleRoutes(alerts: AlertRulesService): Router {
  const router = Router();
  const read = requireAction('read-alerts');
  const manage = requireAction('manage-alert-rules');
  router.get('/alert-rules', read, async (_request, response) => {
    response.status(200).json({ rules: await alerts.list() });
  });
  router.post('/alert-rules', manage, async (request, response) => {
    response.status(201).json(await alerts.create(request.body, currentActor(response).username));
  });
  router.get('/alert-rules/:id', read, async (request, response) => {
    response.status(200).json(await alerts.get(String(request.params.id)));
  });
  router.put('/alert-rules/:id', manage, async (request, response) => {
    response.status(200).json(await alerts.replace(String(request.params.id), request.body, currentActor(response).username));
  });
  router.delete('/alert-rules/:id', manage, async (request, response) => {
    await alerts.remove(String(request.params.id));
    response.status(204).end();
  });
  router.put('/alert-rules/:id/mute', manage, async (request, response) => {
    response.status(200).json(await alerts.mute(String(request.params.id), (request.body as { until?: unknown } | undefined)?.until ?? '', currentActor(response).username));
  });
  router.delete('/alert-rules/:id/mute', manage, async (request, response) => {
    response.status(200).json(await alerts.mute(String(request.params.id), null, currentActor(response).username));
  });
  router.get('/alert-rules/:id/history', read, async (request, response) => {
    response.status(200).json(await alerts.history(String(request.params.id), { size: single(request.query.size), after: single(request.query.after) }, currentActor(response)));
  });
  router.get('/alerts', read, async (_request, response) => {
    response.status(200).json({ alerts: await alerts.active() });
  });
  return router;
}

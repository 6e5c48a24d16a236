import { Router, type Request, type Response } from 'express';
import type { ConsoleActor } from '../../admins/administrator.js';
import type { DashboardService, Editor, ExportFile } from '../../dashboards/dashboard-service.js';
import { ValidationError } from '../../errors/mlog-error.js';
import { currentActor, requireAction } from './console-session.js';

function editorOf(actor: ConsoleActor): Editor {
  return { user: actor.username, details: { admin_role: actor.role, session_id: actor.sessionId, source_address: actor.address } };
}

function sendFile(response: Response, filename: string, file: ExportFile): void {
  response.status(200);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  response.setHeader('Cache-Control', 'no-store');
  response.send(`${JSON.stringify(file, null, 2)}\n`);
}

/** The :id of the path. */
function idOf(request: Request): string {
  const id = request.params.id;
  return typeof id === 'string' ? id : '';
}

function overwriteOf(value: unknown): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new ValidationError('overwrite must be true or false.');
}

/**
 * The console's dashboards (docs/console-api.md, "Dashboards"), relative to /console/api, behind
 * the session and CSRF checks of consoleApi: viewers list, open and render them; administrators
 * create, change, copy, delete, preview, export and import. The service records every opening.
 */
export function dashboardRoutes(dashboards: DashboardService): Router {
  const router = Router();
  const view = requireAction('view-dashboards');
  const manage = requireAction('manage-dashboards');

  router.get('/dashboards', view, async (_request, response) => {
    response.status(200).json({ dashboards: await dashboards.list() });
  });
  router.get('/dashboards/export', manage, async (_request, response) => {
    const file = await dashboards.exportFile();
    await dashboards.recordExport(file, editorOf(currentActor(response)));
    sendFile(response, 'mlog-dashboards.json', file);
  });
  router.post('/dashboards/import', manage, async (request, response) => {
    response.status(200).json(await dashboards.importFile(request.body, overwriteOf(request.query.overwrite), editorOf(currentActor(response))));
  });
  router.post('/dashboards/preview', manage, async (request, response) => {
    response.status(200).json(await dashboards.preview(currentActor(response), request.body));
  });
  router.post('/dashboards', manage, async (request, response) => {
    response.status(201).json(await dashboards.create(request.body, editorOf(currentActor(response))));
  });
  router.get('/dashboards/:id', view, async (request, response) => {
    response.status(200).json(await dashboards.get(idOf(request)));
  });
  router.put('/dashboards/:id', manage, async (request, response) => {
    response.status(200).json(await dashboards.update(idOf(request), request.body, editorOf(currentActor(response))));
  });
  router.delete('/dashboards/:id', manage, async (request, response) => {
    await dashboards.remove(idOf(request), editorOf(currentActor(response)));
    response.status(204).end();
  });
  router.post('/dashboards/:id/copy', manage, async (request, response) => {
    response.status(201).json(await dashboards.copy(idOf(request), request.body, editorOf(currentActor(response))));
  });
  router.post('/dashboards/:id/render', view, async (request, response) => {
    response.status(200).json(await dashboards.render(currentActor(response), idOf(request), request.body));
  });
  router.get('/dashboards/:id/export', manage, async (request, response) => {
    const file = await dashboards.exportFile([idOf(request)]);
    await dashboards.recordExport(file, editorOf(currentActor(response)));
    sendFile(response, `mlog-dashboard-${idOf(request)}.json`, file);
  });
  return router;
}

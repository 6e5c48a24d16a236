import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Logger } from '../../logging/logger.js';
import type { ConsoleSearchService } from '../../search/console-search-service.js';
import { currentActor as actorOf } from './console-session.js';

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The console's reading of the record (docs/console-api.md, "Reading the record"): search, fields,
 * documents, surrounding events, correlation, export and the audit trail. Relative to /console/api,
 * behind the session and CSRF checks of consoleApi; the service checks the role (and records a
 * refusal) and the purpose itself.
 */
export function readingRoutes(search: ConsoleSearchService, logger: Logger): Router {
  const router = Router();
  router.post('/search', async (request, response) => {
    response.status(200).json(await search.search(actorOf(response), request.body));
  });
  router.get('/fields', async (request, response) => {
    response.status(200).json(await search.fields(actorOf(response), single(request.query.scope)));
  });
  router.get('/documents/:index/:id', async (request, response) => {
    response.status(200).json(await search.document(actorOf(response), request.params.index, request.params.id));
  });
  router.get('/documents/:index/:id/surrounding', async (request, response) => {
    response.status(200).json(await search.surrounding(actorOf(response), request.params.index, request.params.id, single(request.query.size)));
  });
  router.get('/correlation', async (request, response) => {
    response.status(200).json(await search.correlate(actorOf(response), single(request.query.field), single(request.query.value)));
  });
  router.get('/audit', async (request, response) => {
    const { query, from, to, after, size } = request.query;
    response.status(200).json(await search.auditTrail(actorOf(response), { query: single(query), from: single(from), to: single(to), after: single(after), size: single(size) }));
  });
  router.post('/export', async (request, response) => {
    const file = await search.export(actorOf(response), request.body);
    response.status(200);
    response.setHeader('Content-Type', file.contentType);
    response.setHeader('Content-Disposition', `attachment; filename="${file.filename}"`);
    response.setHeader('Cache-Control', 'no-store');
    try {
      // pipeline waits for the client to take each chunk before the next page is read.
      await pipeline(Readable.from(file.body), response);
    } catch (error) {
      // Headers are sent: the only way to say the file is incomplete is to cut it short.
      logger.warn('console export cut short', { requestId: String(response.locals.requestId ?? ''), error: (error as Error).name });
      response.destroy();
    }
  });
  return router;
}

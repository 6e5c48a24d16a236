import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Response } from 'express';
import type { ConsoleActor } from '../../admins/administrator.js';
import { AuthenticationError } from '../../errors/mlog-error.js';
import type { Logger } from '../../logging/logger.js';
import type { ConsoleSearchService } from '../../search/console-search-service.js';

/** The signed-in administrator, as the session middleware left it. */
function actorOf(response: Response): ConsoleActor {
  const actor = response.locals.consoleActor as ConsoleActor | undefined;
  if (actor === undefined) throw new AuthenticationError('Sign in to the console first.');
  return actor;
}

function single(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * The console's reading of the record (docs/console-api.md, "Reading the record"): search, fields,
 * documents, surrounding events, correlation, export and the audit trail. Mounted behind the
 * console's session middleware, which puts the ConsoleActor in response.locals.consoleActor.
 */
export function readingRoutes(search: ConsoleSearchService, logger: Logger): Router {
  const router = Router();
  router.post('/console/api/search', async (request, response) => {
    response.status(200).json(await search.search(actorOf(response), request.body));
  });
  router.get('/console/api/fields', async (request, response) => {
    response.status(200).json(await search.fields(actorOf(response), single(request.query.scope)));
  });
  router.get('/console/api/documents/:index/:id', async (request, response) => {
    response.status(200).json(await search.document(actorOf(response), request.params.index, request.params.id));
  });
  router.get('/console/api/documents/:index/:id/surrounding', async (request, response) => {
    response.status(200).json(await search.surrounding(actorOf(response), request.params.index, request.params.id, single(request.query.size)));
  });
  router.get('/console/api/correlation', async (request, response) => {
    response.status(200).json(await search.correlate(actorOf(response), single(request.query.field), single(request.query.value)));
  });
  router.get('/console/api/audit', async (request, response) => {
    const { query, from, to, after, size } = request.query;
    response.status(200).json(await search.auditTrail(actorOf(response), { query: single(query), from: single(from), to: single(to), after: single(after), size: single(size) }));
  });
  router.post('/console/api/export', async (request, response) => {
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

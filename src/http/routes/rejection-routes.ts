import { Router } from 'express';
import type { RejectionSearch } from '../../rejections/rejection-search.js';
import { clientAddress } from '../console/console-session.js';
import { envelope } from '../envelope.js';
import { rawQueryString } from '../raw-query-string.js';

/** GET /admin/rejections?system=…&from=…&to=…&status=…&page=…&page_size=…: refused public-API calls, newest first; each search recorded in mlog_audit first. */
export function rejectionRoutes(rejections: RejectionSearch): Router {
  const router = Router();
  router.get('/admin/rejections', async (request, response) => {
    const answer = await rejections.search(rawQueryString(request), new Date(), { user: 'admin-api', sourceAddress: clientAddress(request) });
    response.status(200).json(envelope(200, 'OK', { ...answer }));
  });
  return router;
}

import { Router, type Request } from 'express';
import { ValidationError } from '../../errors/mlog-error.js';
import { parseQueryString, singleParameter } from '../../events/query-string.js';
import { describeSystem } from '../../systems/information-system.js';
import type { OnboardingService } from '../../onboarding/onboarding-service.js';
import { envelope } from '../envelope.js';
import { rawQueryString } from '../raw-query-string.js';

const REPORT_PARAMETERS = new Set(['from', 'to']);

function reportBounds(request: Request): { from?: string; to?: string } {
  const parameters = parseQueryString(rawQueryString(request));
  for (const name of parameters.keys()) {
    if (!REPORT_PARAMETERS.has(name)) throw new ValidationError(`Query parameter ${name} is not known here; the conformance report takes from and to.`);
  }
  const from = singleParameter(parameters, 'from')?.value;
  const to = singleParameter(parameters, 'to')?.value;
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** The body of POST /admin/systems/{code}/activate: nothing, or {"force": true, "by": "<operator>"}. */
function activationBody(body: unknown): { force: boolean; by?: string } {
  if (body === undefined || body === null) return { force: false };
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('The activation body must be a JSON object such as {"force": true}.');
  const fields = body as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (name !== 'force' && name !== 'by') throw new ValidationError(`"${name}" is not a field of an activation; use force (true or false) and by (who activates).`);
  }
  if (fields.force !== undefined && typeof fields.force !== 'boolean') throw new ValidationError('force must be true or false.');
  if (fields.by !== undefined && (typeof fields.by !== 'string' || fields.by.trim() === '' || fields.by.length > 200)) {
    throw new ValidationError('by must be a non-empty string of at most 200 characters naming who activates.');
  }
  return { force: fields.force === true, ...(typeof fields.by === 'string' ? { by: fields.by.trim() } : {}) };
}

/** GET /admin/systems/{code}/conformance?from=…&to=…, POST /admin/systems/{code}/activate. */
export function onboardingRoutes(onboarding: OnboardingService): Router {
  const router = Router();
  router.get('/admin/systems/:code/conformance', async (request, response) => {
    const report = await onboarding.report(String(request.params.code), reportBounds(request));
    const count = report.findings.length;
    response.status(200).json(envelope(200, count === 0 ? 'OK: no findings.' : `OK: ${count} finding${count === 1 ? '' : 's'}.`, { report }));
  });
  router.post('/admin/systems/:code/activate', async (request, response) => {
    const code = String(request.params.code);
    const body = activationBody(request.body);
    const outcome = await onboarding.activate(code, { force: body.force, by: body.by === undefined ? 'admin-api' : `admin-api (${body.by})` });
    if (!outcome.activated) {
      const count = outcome.report.findings.length;
      response.status(409).json(
        envelope(409, `Information system "${code}" stays in staging: its conformance report for ${outcome.report.period.from} to ${outcome.report.period.to} has ${count} finding${count === 1 ? '' : 's'}; send {"force": true} to activate it anyway.`, {
          period: outcome.report.period,
          findings: outcome.report.findings,
        }),
      );
      return;
    }
    response.status(200).json(
      envelope(200, `Information system "${code}" is active.`, {
        system: describeSystem(outcome.system),
        previous_status: outcome.previousStatus,
        forced: outcome.forced,
        period: outcome.report.period,
        findings: outcome.report.findings,
      }),
    );
  });
  return router;
}

import { Router } from 'express';
import type { AccountChanges, AdminAccount, AdminAccounts } from '../../admins/admin-accounts.js';
import { ValidationError } from '../../errors/mlog-error.js';
import { currentActor, requireAction } from './console-session.js';

function accountAnswer(account: AdminAccount): Record<string, unknown> {
  return { username: account.username, role: account.role, disabled: account.disabled, source: account.source, createdAt: account.createdAt };
}

function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('The body must be a JSON object.');
  return body as Record<string, unknown>;
}

const CHANGEABLE = ['role', 'disabled', 'password'];

function parseChanges(body: unknown): AccountChanges {
  const input = jsonObject(body);
  const unknown = Object.keys(input).filter((key) => !CHANGEABLE.includes(key));
  if (unknown.length > 0) throw new ValidationError(`Unknown field "${unknown[0]}": an administrator's ${CHANGEABLE.join(', ')} can be changed.`);
  if (input.disabled !== undefined && typeof input.disabled !== 'boolean') throw new ValidationError('"disabled" must be true or false.');
  // role and password are checked by the accounts service.
  return { ...(input.role === undefined ? {} : { role: input.role as AccountChanges['role'] }), ...(input.disabled === undefined ? {} : { disabled: input.disabled as boolean }), ...(input.password === undefined ? {} : { password: input.password as string }) };
}

/** GET/POST /admins and PATCH /admins/<username>, for administrators; each change recorded with who made it. */
export function adminAccountRoutes(accounts: AdminAccounts): Router {
  const router = Router();
  router.use('/admins', requireAction('manage-administrators'));
  router.get('/admins', async (_request, response) => {
    response.status(200).json({ admins: (await accounts.list()).map(accountAnswer) });
  });
  router.post('/admins', async (request, response) => {
    const body = jsonObject(request.body);
    const account = await accounts.add({ username: body.username, role: body.role, password: body.password }, `console by ${currentActor(response).username}`);
    response.status(201).json({ admin: accountAnswer(account) });
  });
  router.patch('/admins/:username', async (request, response) => {
    const account = await accounts.update(String(request.params.username), parseChanges(request.body), `console by ${currentActor(response).username}`);
    response.status(200).json({ admin: accountAnswer(account) });
  });
  return router;
}

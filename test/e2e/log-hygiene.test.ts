/**
 * MLog's own log (winston), captured as the exact text it writes, at debug level, while a real MLog
 * answers real mutual-TLS calls over the real Elasticsearch: accepted and refused registrations
 * carrying unique personal values and a signed JWS, queries with personal values in their parameters,
 * /personal-data, admin calls, and client text with CR/LF trying to forge a log line. Then: no line
 * holds any of those values, the JWS or its segments, PEM or private-key text, or the admin token;
 * every line is one JSON object with level, message and timestamp; every request line has a requestId;
 * and the number of lines is the number of JSON objects.
 *
 * The logger is MLog's own (createLogger's format); only its transport is swapped for a capture.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { connect } from 'node:tls';
import { Writable } from 'node:stream';
import winston from 'winston';
import { closeInspectionClient } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

let mlog: TestMLog;
let system: TestSystem;
let portal: TestSystem;
/** Everything MLog wrote to its log, as text. */
let captured = '';
/** Values that must never appear in the log. */
const secrets: string[] = [];
/** How many calls were made (each must have its request line). */
let calls = 0;
const forgedMarker = `forged-${randomUUID()}`;
const FORGED_LINE = `{"level":"error","message":"${forgedMarker}","timestamp":"2024-01-01T00:00:00.000Z","requestId":"x"}`;

function unique(prefix: string): string {
  const value = `${prefix}-${randomUUID()}`;
  secrets.push(value);
  return value;
}

function idnp(): string {
  const value = `2${String(randomInt(100_000_000, 999_999_999))}${String(randomInt(100, 999))}`;
  secrets.push(value);
  return value;
}

async function counted(promise: Promise<HttpAnswer>, status?: number): Promise<HttpAnswer> {
  calls++;
  const answer = await promise;
  if (status !== undefined) assert.equal(answer.status, status, answer.text);
  return answer;
}

/** A raw HTTP/1.1 request over mutual TLS, for what node's HTTP client refuses to send (CR/LF in a header). */
function rawRequest(system: TestSystem, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: mlog.mlog.publicPort, ca: mlog.ca.certPem, servername: 'localhost', cert: system.certificate.certPem, key: system.certificate.keyPem },
      () => socket.end(head),
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

before(async () => {
  mlog = await TestMLog.start();
  const logger = mlog.mlog.logger;
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      // not object mode: winston writes the formatted line, exactly as it would reach stdout
      stream: new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          captured += chunk.toString();
          done();
        },
      }),
    }),
  );
  logger.level = 'debug';
  logger.silent = false;

  [system, portal] = await Promise.all([mlog.addSystem({ keyType: 'rsa' }), mlog.addSystem({ keyType: 'ec-p256', permissions: ['personaldata:read'] })]);
  calls += 2;
  secrets.push(mlog.adminToken);

  const personal = {
    event_time: '2022-06-01T10:00:00Z',
    event_type: 'Hygiene.PersonalData.Access',
    event_message: unique('message'),
    event_correlation: unique('correlation'),
    legal_reason: unique('reason'),
    user: idnp(),
    user_address: `10.${randomInt(0, 255)}.${randomInt(0, 255)}.${randomInt(1, 254)}`,
    subject: idnp(),
    subject_name: unique('Ion Popescu'),
    custom: unique('custom'),
    nested: { value: unique('nested') },
    event_details: { note: unique('details') },
    header_like: `x\r\n${FORGED_LINE}`,
    [`key\r\n${FORGED_LINE}`]: 'value',
  };
  secrets.push(personal.user_address);
  const registered = await counted(system.register(personal), 200);
  const uid = registered.json.UID as string;

  // a signed event: neither the JWS nor any of its segments may be logged
  const jws = await system.sign({ ...personal, event_correlation: unique('signed-correlation') });
  secrets.push(jws, ...jws.split('.').filter((segment) => segment.length > 20));
  await counted(system.register(jws, { headers: { 'Content-Type': 'text/plain' } }), 200);

  // refused calls carrying unique values
  await counted(system.register({ event_time: '2022-06-01T10:00:00Z', user: idnp(), marker: unique('refused-missing-type') }), 400);
  await counted(system.register(`{"event_time":"2022-06-01T10:00:00Z","event_type":"X","user":"${idnp()}","user":"${unique('dup')}"}`), 400);
  const badKid = await system.sign({ event_time: '2022-06-01T10:00:00Z', event_type: 'X', user: idnp() }, { header: { kid: 'abcdef' } });
  secrets.push(...badKid.split('.').filter((segment) => segment.length > 20));
  await counted(system.register(badKid, { headers: { 'Content-Type': 'text/plain' } }), 401);
  await counted(system.register(JSON.stringify({ event_time: '2022-06-01T10:00:00Z', event_type: 'X', big: unique('oversized') + 'x'.repeat(300_000) })), 413);
  await counted(system.register(Buffer.concat([Buffer.from(`{"event_time":"2022-06-01","event_type":"X","v":"${unique('bad-utf8')}`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])), 400);
  await counted(system.register({ event_time: '2022-06-01T10:00:00Z', event_type: 'X', _id: unique('reserved') }), 400);
  await counted(system.register(`{"event_time":"2022-06-01T10:00:00Z","event_type":"X","note":"${unique('raw-crlf')}"}\r\n${FORGED_LINE}`), 400);

  // queries with personal values in their parameters
  const enc = encodeURIComponent;
  const range = 'event_time_from=2022-06-01&event_time_to=2022-06-02';
  await counted(system.call(`/query?${range}&legal_basis=${enc(unique('basis'))}&legal_reason=${enc(unique('q-reason'))}&user=${idnp()}&user_address=${enc(unique('addr'))}&filter=user=${personal.user}`), 200);
  await counted(system.call(`/query?${range}&legal_basis=L&filter=custom=${enc(personal.custom)},subject=${personal.subject}`), 200);
  await counted(system.call(`/query?${range}&legal_basis=L&filter=unknown_field=${enc(unique('unknown-filter'))}`), 400);
  // refused: a query parameter may not hold control characters
  await counted(system.call(`/query?${range}&legal_basis=L&filter=user=${enc(`x\r\n${FORGED_LINE}`)}`), 400);
  await counted(system.call(`/query?${range}&legal_basis=L&legal_reason=${enc(`x\r\n${FORGED_LINE}`)}`), 400);
  await counted(system.call(`/query/${uid}?user=${idnp()}&legal_reason=${enc(unique('uid-reason'))}`), 200);
  await counted(system.call(`/query?uid=${uid}&legal_entity=${enc(unique('entity'))}`), 200);
  await counted(system.call(`/query/${enc(unique('not-a-uid'))}`), 400);
  await counted(system.call(`/query/%0D%0A${enc(FORGED_LINE)}`), 400);
  await counted(system.call(`/${enc(unique('unknown-path'))}%0D%0A${enc(FORGED_LINE)}`), 404);
  await counted(portal.call(`/personal-data?subject=${personal.subject}&legal_basis=${enc(unique('pd-basis'))}`), 200);
  await counted(portal.call(`/personal-data?subject=${idnp()}&legal_basis=L`), 404);
  await counted(system.call(`/personal-data?subject=${personal.subject}&legal_basis=L`), 403);
  await counted(system.call(`/query?${range}&legal_basis=L`, { headers: { 'User-Agent': unique('agent'), 'X-Request-Id': unique('client-request-id'), Referer: unique('referer') } }), 200);

  // CR/LF where node's client will not put it: in a header and in the request line, sent raw
  await rawRequest(system, `GET /query?${range}&legal_basis=L HTTP/1.1\r\nHost: localhost\r\nUser-Agent: a\r\n${FORGED_LINE}\r\nConnection: close\r\n\r\n`);
  await rawRequest(system, `GET /query?${range}&legal_basis=L HTTP/1.1\r\nHost: localhost\r\nUser-Agent: a\n${FORGED_LINE}\nConnection: close\r\n\r\n`);
  await rawRequest(system, `GET /query/\r\n${FORGED_LINE} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);

  // the admin API, with its token
  await counted(mlog.callAdmin(`/admin/systems/${system.code}`), 200);
  await counted(mlog.callAdmin('/admin/systems', { token: unique('wrong-token') }), 401);
  // let the rejection recorder and the 'finish' handlers write their lines
  await new Promise((resolve) => setTimeout(resolve, 500));
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

function lines(): string[] {
  return captured.split('\n').filter((line) => line !== '');
}

describe("MLog's own log", () => {
  test('something was logged: a request line for every call', () => {
    if (process.env.MLOG_SHOW_CAPTURE === '1') console.log(captured);
    const requestLines = lines().filter((line) => JSON.parse(line).message === 'request');
    assert.ok(requestLines.length >= calls, `${requestLines.length} request lines for ${calls} calls`);
  });

  test('every line is one JSON object with level, message and timestamp; the count of lines is the count of objects', () => {
    assert.ok(!captured.includes('\r'), 'no CR in the log');
    assert.ok(captured.endsWith('\n'));
    for (const line of lines()) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`not one JSON object: ${line.slice(0, 300)}`);
      }
      assert.ok(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), line);
      assert.equal(typeof parsed.level, 'string', line);
      assert.equal(typeof parsed.message, 'string', line);
      assert.match(String(parsed.timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/, line);
    }
  });

  test('client text with CR/LF forged no line', () => {
    for (const line of lines()) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.notEqual(parsed.message, forgedMarker, `a forged line: ${line}`);
      assert.ok(!line.includes(forgedMarker), `client text reached the log: ${line.slice(0, 300)}`);
    }
  });

  test('every request line (and every line about a request) carries a requestId', () => {
    for (const line of lines()) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.message === 'request' || 'listener' in parsed || 'method' in parsed || parsed.message === 'request failed') {
        assert.match(String(parsed.requestId), /^[0-9a-f-]{36}$/, `no requestId: ${line}`);
      }
    }
  });

  test('no request body, personal value, JWS or JWS segment, client header, or admin token', () => {
    assert.ok(secrets.length > 30, `${secrets.length} values checked`);
    const leaks: string[] = [];
    for (const line of lines()) for (const secret of secrets) if (line.includes(secret)) leaks.push(`${secret.slice(0, 60)} in ${line.slice(0, 300)}`);
    assert.deepEqual(leaks, []);
  });

  test('no certificate private part or PEM text', () => {
    const keyBodies = [system.certificate.keyPem, portal.certificate.keyPem, mlog.server.keyPem, mlog.ca.keyPem]
      .map((pem) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''))
      .flatMap((body) => [body.slice(0, 40), body.slice(100, 140), body.slice(-40, -2)]);
    for (const line of lines()) {
      assert.doesNotMatch(line, /-----BEGIN|PRIVATE KEY|-----END/, line.slice(0, 300));
      for (const part of keyBodies) assert.ok(!line.includes(part), `a private key part in ${line.slice(0, 300)}`);
    }
  });

  test(
    'every line written while handling a request carries that request\'s requestId',
    () => {
      const lifecycle = new Set(['MLog started', 'MLog stopped', 'index templates installed']);
      const without = lines()
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((parsed) => !lifecycle.has(String(parsed.message)) && parsed.requestId === undefined)
        .map((parsed) => `${String(parsed.level)} ${String(parsed.message)}`);
      assert.deepEqual([...new Set(without)], []);
    },
  );
});

/**
 * The console's query language on the real Elasticsearch: documents in an index made from MLog's
 * event template (index-templates/mlog-events.json), and each kind of query returning exactly the
 * documents it should.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { QuerySyntaxError } from '../../src/errors/mlog-error.js';
import { createLogger } from '../../src/logging/logger.js';
import { parseQuery } from '../../src/search/query-language.js';
import { buildConsoleQuery } from '../../src/storage/console-query-builder.js';
import { installIndexTemplates } from '../../src/storage/template-installer.js';
import { closeInspectionClient, inspectionClient } from '../helpers/elasticsearch-inspection.js';

const code = `kql${randomBytes(4).toString('hex')}`;
const index = `mlog-${code}-2026.01`;

interface Event {
  event_id: string;
  [field: string]: unknown;
}

/** e01…e30: who did what, when; each query below is checked against exactly these ids. */
const EVENTS: Event[] = [
  { event_id: 'e01', event_time: '2026-01-01T08:00:00Z', event_type: 'MPass.Login', user: 'alice', event_message: 'Login succeeded for alice', event_correlation: 'c-1' },
  { event_id: 'e02', event_time: '2026-01-01T09:00:00Z', event_type: 'MPass.Login', user: 'bob', event_message: 'Login failed: wrong password', event_correlation: 'c-2' },
  { event_id: 'e03', event_time: '2026-01-01T23:59:59.999Z', event_type: 'MPass.Logout', user: 'alice', event_message: 'Logout', event_correlation: 'c-1' },
  { event_id: 'e04', event_time: '2026-01-02T00:00:00Z', event_type: 'MPay.Payment', user: 'alice', event_message: 'Payment of 100 MDL accepted', event_correlation: 'c-1' },
  { event_id: 'e05', event_time: '2026-01-02T10:30:00.250+02:00', event_type: 'MPay.Refund', user: 'carol', event_message: 'Refund failed after timeout', subject: 'IDNP 2001' },
  { event_id: 'e06', event_time: '2026-01-03T12:00:00Z', event_type: 'MSign.Sign', user: 'dave', event_message: 'Document signed', subject_name: 'Ion Popescu' },
  { event_id: 'e07', event_time: '2026-01-03T13:00:00Z', event_type: 'MSign.Sign', user: 'Alice', event_message: 'failed login then signed' },
  { event_id: 'e08', event_time: '2026-01-04T00:00:00Z', event_type: 'MPass.PersonalData.Read', user: 'erin', subject: 'IDNP 2002', event_message: 'Read the personal record' },
  { event_id: 'e09', event_time: '2026-01-05T00:00:00Z', event_type: 'Custom', user: 'a OR b*', event_message: 'value with lucene syntax' },
  { event_id: 'e10', event_time: '2026-01-05T01:00:00Z', event_type: 'Custom', user: 'x:y (z)', event_message: 'value with colon and parentheses', request: { method: 'GET', path: '/a' } },
  { event_id: 'e11', event_time: '2026-01-06T00:00:00Z', event_type: 'Custom', user: 'and', event_message: 'user named and', request: { method: 'POST' } },
  { event_id: 'e12', event_time: '2026-01-07T00:00:00Z', event_type: 'MPass.Login', user: 'alice', event_message: 'Login succeeded again', event_details: { amount: 5 } },
];

async function ids(text: string): Promise<string[]> {
  const response = await inspectionClient().search<Event>({ index, query: buildConsoleQuery(parseQuery(text)), size: 100, sort: [{ event_id: 'asc' }] });
  return response.hits.hits.map((hit) => hit._source!.event_id);
}

describe('the console query language on Elasticsearch', () => {
  before(async () => {
    await installIndexTemplates(inspectionClient(), createLogger('error', true));
    const operations = EVENTS.flatMap((event) => [{ index: { _index: index } }, { ...event, '@is': code, '@id': event.event_id }]);
    const response = await inspectionClient().bulk({ operations, refresh: 'wait_for' });
    assert.equal(response.errors, false, JSON.stringify(response.items.filter((item) => item.index?.error)));
  });

  after(async () => {
    await inspectionClient().indices.delete({ index, expand_wildcards: 'none' }, { ignore: [404] });
    await closeInspectionClient();
  });

  test('the empty query returns every document', async () => {
    assert.deepEqual(await ids(''), EVENTS.map((event) => event.event_id));
  });

  test('field:value is the exact keyword, case and all', async () => {
    assert.deepEqual(await ids('user:alice'), ['e01', 'e03', 'e04', 'e12']);
    assert.deepEqual(await ids('user:Alice'), ['e07']);
    assert.deepEqual(await ids('event_type:MPass.Login'), ['e01', 'e02', 'e12']);
    assert.deepEqual(await ids('subject_name:"Ion Popescu"'), ['e06']);
    assert.deepEqual(await ids('subject_name:Ion'), [], 'a keyword is matched whole');
  });

  test('field:val* is a keyword prefix', async () => {
    assert.deepEqual(await ids('event_type:MPass.*'), ['e01', 'e02', 'e03', 'e08', 'e12']);
    assert.deepEqual(await ids('event_type:MP*'), ['e01', 'e02', 'e03', 'e04', 'e05', 'e08', 'e12']);
  });

  test('field:(a or b), and not inside', async () => {
    assert.deepEqual(await ids('user:(bob or carol or dave)'), ['e02', 'e05', 'e06']);
    assert.deepEqual(await ids('event_type:(MPass.* and not MPass.Login)'), ['e03', 'e08']);
  });

  test('field:* is "has a value"', async () => {
    assert.deepEqual(await ids('subject:*'), ['e05', 'e08']);
    assert.deepEqual(await ids('not event_correlation:*'), ['e05', 'e06', 'e07', 'e08', 'e09', 'e10', 'e11', 'e12']);
  });

  test('bare words search event_message for all the words, in any order and case; a phrase keeps them together', async () => {
    assert.deepEqual(await ids('failed'), ['e02', 'e05', 'e07']);
    assert.deepEqual(await ids('login FAILED'), ['e02', 'e07']);
    assert.deepEqual(await ids('"login failed"'), ['e02']);
    assert.deepEqual(await ids('"failed login"'), ['e07']);
    assert.deepEqual(await ids('event_message:payment'), ['e04']);
  });

  test('and, or, not and parentheses, with not > and > or', async () => {
    assert.deepEqual(await ids('user:alice and event_type:MPass.Login'), ['e01', 'e12']);
    assert.deepEqual(await ids('user:bob or user:carol and failed'), ['e02', 'e05']);
    assert.deepEqual(await ids('(user:bob or user:carol) and timeout'), ['e05']);
    assert.deepEqual(await ids('user:alice and not event_type:MPass.Login'), ['e03', 'e04']);
    assert.deepEqual(await ids('not user:alice and event_correlation:*'), ['e02']);
    assert.deepEqual(await ids('user:alice failed'), [], 'juxtaposition is and');
  });

  test('date values are spans: a day, a second, a millisecond, in any offset', async () => {
    assert.deepEqual(await ids('event_time:2026-01-01'), ['e01', 'e02', 'e03']);
    assert.deepEqual(await ids('event_time:"2026-01-01T09:00:00Z"'), ['e02']);
    assert.deepEqual(await ids('event_time:"2026-01-02T08:30:00.250Z"'), ['e05']);
    assert.deepEqual(await ids('event_time:2026-01-02T10:30:00.250+02:00'), ['e05']);
    assert.deepEqual(await ids('event_time:"2026-01-02T08:30:00.251Z"'), []);
  });

  test('date ranges with each comparison', async () => {
    assert.deepEqual(await ids('event_time >= 2026-01-05'), ['e09', 'e10', 'e11', 'e12']);
    assert.deepEqual(await ids('event_time > 2026-01-05'), ['e11', 'e12']);
    assert.deepEqual(await ids('event_time < 2026-01-02'), ['e01', 'e02', 'e03']);
    assert.deepEqual(await ids('event_time <= 2026-01-01'), ['e01', 'e02', 'e03']);
    assert.deepEqual(await ids('event_time >= "2026-01-01T09:00:00Z" and event_time < 2026-01-02T00:00:00Z'), ['e02', 'e03']);
  });

  test('keyword ranges compare as text', async () => {
    assert.deepEqual(await ids('event_id >= e10'), ['e10', 'e11', 'e12']);
    assert.deepEqual(await ids('user < b'), ['e01', 'e03', 'e04', 'e07', 'e09', 'e11', 'e12']);
  });

  test('dotted names reach an IS\'s nested fields', async () => {
    assert.deepEqual(await ids('request.method:GET'), ['e10']);
    assert.deepEqual(await ids('request.method:*'), ['e10', 'e11']);
    assert.deepEqual(await ids('request.path:"/a"'), ['e10']);
  });

  test('values with characters that mean something to Lucene are searched as they are', async () => {
    assert.deepEqual(await ids('user:"a OR b*"'), ['e09']);
    assert.deepEqual(await ids('user:a\\ OR\\ b\\*'), ['e09']);
    assert.deepEqual(await ids('user:"x:y (z)"'), ['e10']);
    assert.deepEqual(await ids('user:\\and'), ['e11']);
    assert.deepEqual(await ids('user:a*'), ['e01', 'e03', 'e04', 'e09', 'e11', 'e12']);
  });

  test('event_details is refused, not silently empty', () => {
    assert.throws(() => buildConsoleQuery(parseQuery('event_details.amount:5')), QuerySyntaxError);
  });
});

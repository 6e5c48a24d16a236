/**
 * Isolation between information systems, through the real HTTPS door with real mutual TLS: an IS B never
 * reads the events of an IS A — by UID, by range, by a crafted filter, by a path trick, or through
 * /personal-data without the permission — nor do A and A-test (a code and its extension, sharing the
 * index prefix) read each other's. With personaldata:read, /personal-data is a cross-IS view by design,
 * and then it exposes only the projection fields.
 *
 * Each IS stores a secret marker that no other IS ever sends: it must never appear in another IS's
 * answers. Values another IS does send (to try an exact match) are checked by the answers' @uid.
 * Inside an IS's own index, the @is filter of every search is the second wall: a document naming
 * another IS, planted there directly in Elasticsearch, is never answered.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PERSONAL_DATA_FIELDS } from '../../src/events/predefined-fields.js';
import { closeInspectionClient, inspectionClient, storedEvents } from '../helpers/elasticsearch-inspection.js';
import { TestMLog, uniqueCode, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

type Event = Record<string, unknown>;

const RANGE = 'event_time_from=2021-09-01&event_time_to=2021-09-02&legal_basis=Isolation';
const ALLOWED_PERSONAL_DATA_FIELDS = new Set<string>([...PERSONAL_DATA_FIELDS, '@is', 'is_name', '@uid']);

interface Tenant {
  system: TestSystem;
  /** Never sent by any other IS: must never appear in another IS's answers. */
  secret: string;
  /** Sent by others as a filter value: checked by @uid. */
  guess: string;
  subject: string;
  uids: string[];
}

let mlog: TestMLog;
let a: Tenant;
let aTest: Tenant;
let b: Tenant;
let portal: TestSystem;

async function registerBatch(system: TestSystem, events: Event[]): Promise<string> {
  const answer = await system.register(events.map((item) => JSON.stringify(item)).join('\n'));
  assert.equal(answer.status, 200, answer.text);
  return answer.json.UID as string;
}

function eventsOf(secret: string, guess: string, subject: string): Event[] {
  return [
    {
      event_time: '2021-09-01T10:00:00Z',
      event_type: 'Iso.PersonalData.Access',
      event_message: `message ${secret} and ${guess}`,
      event_correlation: secret,
      event_id: `id-${secret}`,
      legal_basis: 'Isolation',
      legal_reason: `reason-${secret}`,
      user: guess,
      user_session: `session-${secret}`,
      subject,
      subject_name: `name-${secret}`,
      object_name: `object-name-${secret}`,
      secret,
      guess,
      nested: { inner: guess, deep: { secret } },
      list: [guess, secret],
      event_details: { secret },
    },
    { event_time: '2021-09-01T11:00:00Z', event_type: 'Iso.Other', secret, guess, user: guess },
  ];
}

async function tenant(system: TestSystem): Promise<Tenant> {
  const secret = `secret-${randomUUID()}`;
  const guess = `guess-${randomUUID()}`;
  const subject = `subject-${randomUUID()}`;
  const uid = await registerBatch(system, eventsOf(secret, guess, subject));
  return { system, secret, guess, subject, uids: [uid] };
}

before(async () => {
  mlog = await TestMLog.start();
  const base = uniqueCode('iso');
  const [systemA, systemATest, systemB, portalSystem] = await Promise.all([
    mlog.addSystem({ code: base, keyType: 'ec-p256' }),
    mlog.addSystem({ code: `${base}-test`, keyType: 'ec-p256' }),
    mlog.addSystem({ keyType: 'ec-p256' }),
    mlog.addSystem({ keyType: 'ec-p256', permissions: ['personaldata:read'] }),
  ]);
  [a, aTest, b] = await Promise.all([tenant(systemA), tenant(systemATest), tenant(systemB)]);
  portal = portalSystem;
});

after(async () => {
  await mlog?.stop();
  await closeInspectionClient();
});

/**
 * `reader` asked something that could reach `owner`'s events: not a 5xx, the envelope, the owner's
 * secret nowhere in the answer, and every returned event one of the reader's own calls.
 */
function assertIsolated(answer: HttpAnswer, reader: Tenant, owner: Tenant, what: string): void {
  const context = `${what} → HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status >= 400 || answer.status === 200, context);
  assert.ok(answer.status < 500, `not a 5xx: ${context}`);
  assert.equal(answer.json?.status, String(answer.status), `the envelope: ${context}`);
  assert.ok(!answer.text.includes(owner.secret), `${owner.system.code}'s secret leaked to ${reader.system.code}: ${context}`);
  assert.ok(!answer.text.includes(owner.subject), `${owner.system.code}'s subject leaked to ${reader.system.code}: ${context}`);
  const result = answer.json?.result;
  if (Array.isArray(result)) {
    for (const item of result as Event[]) {
      // the reader's own calls, or the reader's own MLog.ClientQuery records (which state the reader's own queries)
      assert.ok(reader.uids.includes(String(item['@uid'])) || item.event_type === 'MLog.ClientQuery', `an event of another call: ${context}`);
      assert.ok(!owner.uids.includes(String(item['@uid'])), `an event of ${owner.system.code}'s call: ${context}`);
      assert.notEqual(item.guess, owner.guess, context);
    }
  }
}

function pairs(): Array<[Tenant, Tenant, string]> {
  return [
    [b, a, 'B reading A'],
    [a, b, 'A reading B'],
    [a, aTest, 'A reading A-test'],
    [aTest, a, 'A-test reading A'],
  ];
}

describe('isolation: by UID', () => {
  test('the owner reads its own call (the control)', async () => {
    for (const owner of [a, aTest, b]) {
      const answer = await owner.system.call(`/query/${owner.uids[0]}`);
      assert.equal(answer.status, 200, answer.text);
      assert.ok(answer.text.includes(owner.secret));
    }
  });

  for (const [readerOf, ownerOf, label] of [
    [() => b, () => a, 'B reading A'],
    [() => a, () => b, 'A reading B'],
    [() => a, () => aTest, 'A reading A-test'],
    [() => aTest, () => a, 'A-test reading A'],
  ] as const) {
    test(`${label}: /query/{uid}, /query?uid=, upper case, and path tricks never reach the other's call`, async () => {
      const reader = readerOf();
      const owner = ownerOf();
      const uid = owner.uids[0] as string;
      const own = reader.uids[0] as string;
      const paths = [
        `/query/${uid}`,
        `/query?uid=${uid}`,
        `/query?uid=${uid.toUpperCase()}`,
        `/query/${uid.toUpperCase()}`,
        `/query?uid=%20${uid}%20`,
        `/query?uid=${own}&uid=${uid}`,
        `/query/${own}?uid=${uid}`,
        `/query/${uid}?uid=${own}`,
        `/query/${uid}/`,
        `/query/${uid}%00`,
        `/query/${uid}%20`,
        `/query/${uid}.`,
        `/query/${uid}..`,
        `/query/${uid};`,
        `/query/${uid}%2F`,
        `/query/%7B${uid}%7D`,
        `/query/urn:uuid:${uid}`,
        `/query/..%2F..%2Fquery%2F${uid}`,
        `/query/..%2Fquery%2F${uid}`,
        `/query/%2e%2e/query/${uid}`,
        `/query/./${uid}`,
        `/query/../query/${uid}`,
        `//query/${uid}`,
        `/query//${uid}`,
        `/QUERY/${uid}`,
        `/Query/${uid}`,
        `/query/${uid}?legal_entity=*&user=*`,
        `/query/${own}%2F..%2F${uid}`,
        `/query/${own},${uid}`,
        `/query/${own}%2C${uid}`,
        `/query?uid=${own}%2C${uid}`,
        `/query?uid=*`,
        `/query/*`,
        `/query/${uid.slice(0, 8)}*`,
        `/query?uid=${uid.slice(0, 8)}*`,
      ];
      for (const path of paths) assertIsolated(await reader.system.call(path), reader, owner, path);
    });
  }
});

describe('isolation: by range and by filter', () => {
  test('the owner finds its own events in the range (the control)', async () => {
    for (const owner of [a, aTest, b]) {
      const answer = await owner.system.call(`/query?${RANGE}&filter=guess=${owner.guess}`);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.pagination['record-count'], 2);
    }
  });

  for (const [readerOf, ownerOf, label] of [
    [() => b, () => a, 'B reading A'],
    [() => a, () => b, 'A reading B'],
    [() => a, () => aTest, 'A reading A-test'],
    [() => aTest, () => a, 'A-test reading A'],
  ] as const) {
    test(`${label}: the range and crafted filters answer only the reader's own events`, async () => {
      const reader = readerOf();
      const owner = ownerOf();
      const code = owner.system.code;
      const uid = owner.uids[0] as string;
      const filters = [
        `@is=${code}`,
        `%40is=${code}`,
        `%40is%3D${code}`,
        `%40IS=${code}`,
        `@uid=${uid}`,
        `%40uid=${uid}`,
        `_index=mlog-${code}-*`,
        `_index=*`,
        `%5Findex=mlog-${code}-2021.09`,
        `_id=*`,
        `_source=*`,
        `_routing=x`,
        `*=*`,
        `*=${owner.guess}`,
        `guess*=${owner.guess}`,
        `*guess=${owner.guess}`,
        `_all=${owner.guess}`,
        `guess=${owner.guess}`,
        `guess=*`,
        `guess=${owner.guess.slice(0, 10)}*`,
        `user=*`,
        `user=${owner.guess}`,
        `nested.inner=${owner.guess}`,
        `list=${owner.guess}`,
        `event_type=*`,
        `event_type=Iso.*`,
        `event_message=*`,
        `event_message=${owner.guess}`,
        `event_message=message OR ${owner.guess}`,
        `event_message=${encodeURIComponent(`"${owner.guess}" OR @is:${code}`)}`,
        `user=*) OR (@is:${code}`,
        `user=${encodeURIComponent(`*) OR (@is:${code}`)}`,
        `user=${encodeURIComponent(`x" OR "1"="1`)}`,
        encodeURIComponent('{"match_all":{}}'),
        `user=${encodeURIComponent('{"match_all":{}}')}`,
        `guess=${encodeURIComponent(`${owner.guess},@is=${code}`)}`,
        `guess=x,@is=${code}`,
        `guess=x,%40is=${code}`,
        `guess.keyword=${owner.guess}`,
        `secret=x`,
        `nested.deep.secret=x`,
        `event_details=x`,
        `event_details.secret=x`,
        `@is`,
        `=${code}`,
        `guess==${owner.guess}`,
        `guess=${owner.guess}%00`,
        `GUESS=${owner.guess}`,
      ];
      // the range alone
      assertIsolated(await reader.system.call(`/query?${RANGE}`), reader, owner, 'range');
      assertIsolated(await reader.system.call(`/query?event_time_from=1970-01-01&event_time_to=2100-01-01&legal_basis=x&page_size=1000`), reader, owner, 'all time');
      for (const filter of filters) {
        const path = `/query?${RANGE}&filter=${filter.replace(/ /g, "%20")}`;
        const answer = await reader.system.call(path);
        assertIsolated(answer, reader, owner, path);
        if (/^(%40|@|_|%5F)/i.test(filter)) assert.equal(answer.status, 400, `a reserved field name is refused: ${path} → ${answer.text}`);
      }
      // parameters that are not filters but might be read as query syntax
      for (const extra of [
        `user=*`,
        `user=${owner.guess}`,
        `legal_entity=*`,
        `user_address=*`,
        `legal_reason=${encodeURIComponent(`*) OR (@is:${code}`)}`,
        `@is=${code}`,
        `is=${code}`,
        `index=mlog-${code}-*`,
        `system=${code}`,
        `code=${code}`,
      ]) {
        const path = `/query?${RANGE}&${extra}`;
        assertIsolated(await reader.system.call(path), reader, owner, path);
      }
      // path tricks on the range form
      for (const path of [`/query/?${RANGE}`, `//query?${RANGE}`, `/QUERY?${RANGE}`, `/query/%2e?${RANGE}`, `/query/..%2F${code}?${RANGE}`, `/query/${code}?${RANGE}`]) {
        assertIsolated(await reader.system.call(path), reader, owner, path);
      }
    });
  }
});

describe('isolation: /personal-data', () => {
  test('without personaldata:read: 403 for the subject of another IS, whatever the path or parameters', async () => {
    for (const [reader, owner] of pairs()) {
      for (const path of [
        `/personal-data?subject=${owner.subject}&legal_basis=x`,
        `/personal-data?subject=${owner.subject}`,
        `/personal-data?subject=*&legal_basis=x`,
        `/personal-data/?subject=${owner.subject}&legal_basis=x`,
        `/Personal-Data?subject=${owner.subject}&legal_basis=x`,
        `//personal-data?subject=${owner.subject}&legal_basis=x`,
        `/personal-data?subject=${owner.subject}&legal_basis=x&permissions=personaldata:read`,
        `/personal-data?subject=${owner.subject}&legal_basis=x&is=${owner.system.code}`,
      ]) {
        const answer = await reader.system.call(path);
        assertIsolated(answer, reader, owner, path);
        assert.ok(answer.status === 403 || answer.status === 404, `${path} → ${answer.status} ${answer.text}`);
        if (path.startsWith('/personal-data?')) assert.equal(answer.status, 403, `${path} → ${answer.text}`);
      }
    }
  });

  test('with personaldata:read: a cross-IS view by design, holding only the projection fields', async () => {
    for (const owner of [a, aTest, b]) {
      const answer = await portal.call(`/personal-data?subject=${owner.subject}&legal_basis=Inspection`);
      assert.equal(answer.status, 200, answer.text);
      const result = answer.json.result as Event[];
      assert.equal(result.length, 1);
      const item = result[0] as Event;
      assert.equal(item.subject, owner.subject);
      assert.equal(item['@is'], owner.system.code);
      const extra = Object.keys(item).filter((name) => !ALLOWED_PERSONAL_DATA_FIELDS.has(name));
      assert.deepEqual(extra, [], 'only the projection fields');
      // what is not in the projection never shows: the message, custom fields, session, object name, details
      for (const hidden of [`message ${owner.secret}`, `session-${owner.secret}`, `object-name-${owner.secret}`, `id-${owner.secret}`]) {
        assert.ok(!answer.text.includes(hidden), `${hidden} is not in the projection: ${answer.text}`);
      }
      for (const name of ['secret', 'guess', 'nested', 'list', 'event_details', 'event_message', 'user_session', 'object_name', 'event_id']) {
        assert.equal(item[name], undefined, `${name} is not in the projection`);
      }
    }
  });

  test('with personaldata:read: a wildcard or query-syntax subject matches nothing', async () => {
    for (const subject of ['*', 'subject-*', `${a.subject.slice(0, 12)}*`, '{"match_all":{}}', `x OR ${a.subject}`, `${a.subject} `, a.subject.toUpperCase()]) {
      const answer = await portal.call(`/personal-data?subject=${encodeURIComponent(subject)}&legal_basis=Inspection`);
      assert.ok(answer.status < 500, answer.text);
      const result = (answer.json?.result ?? []) as Event[];
      for (const item of result) assert.equal(item.subject, subject.trim(), `subject ${JSON.stringify(subject)} matched ${JSON.stringify(item.subject)}`);
    }
  });

  test('with personaldata:read, /query is still only the portal\'s own events', async () => {
    const reader: Tenant = { system: portal, secret: 'none', guess: 'none', subject: 'none', uids: [] };
    for (const owner of [a, b]) {
      assertIsolated(await portal.call(`/query/${owner.uids[0]}`), reader, owner, 'uid');
      assertIsolated(await portal.call(`/query?${RANGE}`), reader, owner, 'range');
      assertIsolated(await portal.call(`/query?${RANGE}&filter=subject=${owner.subject}`), reader, owner, 'filter subject');
    }
  });
});

describe('isolation: the @is filter inside the reader\'s own index', () => {
  test('a document naming another IS in @is, planted in the reader\'s own index with the reader\'s UID, is answered neither by UID nor by range', async () => {
    // A reader of its own, so that no other test meets the planted document.
    const reader = await mlog.addSystem({ keyType: 'ec-p256' });
    const guess = `guess-${randomUUID()}`;
    const plantedSecret = `planted-${randomUUID()}`;
    const uid = await registerBatch(reader, [{ event_time: '2021-09-01T10:00:00Z', event_type: 'Iso.Own', legal_basis: 'Isolation', guess }]);
    const [own] = await storedEvents(reader.code, uid);
    assert.ok(own !== undefined);
    // Written straight into the reader's index, as only someone with access to Elasticsearch could:
    // the index pattern lets the reader's searches reach it; only the @is filter keeps it out.
    const plantedId = `${uid}-99999`;
    await inspectionClient().index({
      index: own.index,
      id: plantedId,
      refresh: true,
      document: {
        event_time: '2021-09-01T10:30:00Z',
        event_type: 'Iso.Planted',
        legal_basis: 'Isolation',
        guess,
        secret: plantedSecret,
        '@is': b.system.code,
        '@uid': uid,
        '@id': plantedId,
        '@received': own.source['@received'],
        '@signed': false,
        '@line': 1,
      },
    });

    const answered: string[] = [];
    for (const path of [`/query/${uid}`, `/query?uid=${uid}`, `/query?${RANGE}&filter=guess=${guess}`, `/query?${RANGE}&filter=secret=${plantedSecret}`]) {
      const answer = await reader.call(path);
      if (answer.text.includes(plantedSecret)) answered.push(path);
      if (path.includes('secret=')) {
        if (answer.status !== 404) answered.push(`${path} → HTTP ${answer.status}`);
        continue;
      }
      assert.equal(answer.status, 200, `${path} → ${answer.text}`);
      const types = (answer.json.result as Event[]).map((item) => item.event_type);
      if (answer.json.pagination['record-count'] !== 1 || types.join() !== 'Iso.Own') answered.push(`${path} (${types.join(', ')})`);
    }
    assert.deepEqual(answered, [], 'the planted document of another IS is answered');
  });
});

/**
 * A search never answers from only some of the shards. When an index in a query's scope has a shard
 * with no copy left (its node gone, its disk lost), Elasticsearch's default would answer from the
 * other shards and report the missing one only in `_shards.failed`: MLog would then answer 200 with too
 * few events and a too-low `record-count`. MLog asks for whole answers, so such a query is answered
 * 503 with Retry-After, and answers in full again once the shard is back.
 *
 * The red index needs an Elasticsearch of its own: on the tests' shared one, every search over all
 * systems (console, dashboards, alerts, `mlog verify --all`) of the tests running beside would be
 * refused too. Slow suite, for the time that Elasticsearch takes to start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScenarioElasticsearch } from '../faults/fault-harness.js';
import { event, TestMLog, type ConsoleClient, type HttpAnswer, type TestSystem } from '../helpers/test-mlog.js';

const FROM = '2020-01-01T00:00:00Z';
const TO = '2030-01-01T00:00:00Z';

describe('a query over an index with a missing shard is refused, not answered in part', () => {
  let elasticsearch: ScenarioElasticsearch;
  let mlog: TestMLog;
  let registrar: TestSystem;
  let portal: TestSystem;
  let auditor: ConsoleClient;
  let uid: string;
  const subject = `subject-${Date.now()}`;

  before(async () => {
    elasticsearch = await ScenarioElasticsearch.start(9720);
    mlog = await TestMLog.start({ MLOG_ELASTICSEARCH_URL: elasticsearch.url });
    [registrar, portal] = await Promise.all([mlog.addSystem(), mlog.addSystem({ permissions: ['personaldata:read'] })]);
    const registered = await registrar.register(
      [
        event({ event_type: 'Registry.Changed', event_message: 'one' }),
        event({ event_type: 'Registry.Changed', event_message: 'two' }),
        event({ event_type: 'PersonalData.Read', subject, legal_basis: 'Law 133/2011' }),
      ].map((one) => JSON.stringify(one)).join('\n'),
    );
    assert.equal(registered.status, 200, registered.text);
    uid = String(registered.json.UID);
    auditor = await mlog.signedInAs('auditor');
    await auditor.statePurpose();
  });
  after(async () => {
    await mlog?.stop();
    await elasticsearch?.stop();
  });

  const byRange = (): Promise<HttpAnswer> => registrar.call(`/query?event_time_from=${FROM}&event_time_to=${TO}&legal_basis=Audit&filter=event_type%3DRegistry.Changed`);
  const byUid = (): Promise<HttpAnswer> => registrar.call(`/query/${uid}?legal_basis=Audit`);
  const personalData = (): Promise<HttpAnswer> => portal.call(`/personal-data?subject=${subject}&legal_basis=Audit&event_time_from=${FROM}&event_time_to=${TO}`);
  const consoleSearch = (): Promise<HttpAnswer> => auditor.post('/search', { scope: { kind: 'events', systems: [registrar.code] }, query: 'event_type:Registry.Changed', from: FROM, to: TO });

  /** Creates an index of `name` whose only shard may be allocated to no node: it stays unassigned (red). */
  async function redIndex(name: string): Promise<void> {
    await elasticsearch.es('PUT', `/${name}?wait_for_active_shards=0`, { settings: { number_of_replicas: 0, 'index.routing.allocation.require._name': 'no-such-node' } });
    const shards = (await elasticsearch.es('GET', `/_cat/shards/${name}?format=json`)) as { state: string }[];
    assert.deepEqual(shards.map((shard) => shard.state), ['UNASSIGNED'], `${name}'s shard has no copy`);
  }

  function assertRefused(answer: HttpAnswer, what: string): void {
    assert.equal(answer.status, 503, `${what}: ${answer.status} ${answer.text}`);
    assert.equal(answer.json?.status, '503', what);
    assert.match(String(answer.json?.message), /Elasticsearch is unavailable/, what);
    assert.ok(Number(answer.headers['retry-after']) > 0, `${what} says when to retry`);
  }

  test('whole answers before, 503 while a shard is missing, the same whole answers after', async () => {
    const before = { range: await byRange(), uid: await byUid(), personalData: await personalData(), console: await consoleSearch() };
    assert.equal(before.range.status, 200, before.range.text);
    assert.equal(before.range.json.pagination['record-count'], 2);
    assert.equal(before.uid.status, 200, before.uid.text);
    assert.equal(before.uid.json.pagination['record-count'], 3);
    assert.equal(before.personalData.status, 200, before.personalData.text);
    assert.equal(before.personalData.json.pagination['record-count'], 1);
    assert.equal(before.console.status, 200, before.console.text);
    assert.equal(before.console.json.total, 2, before.console.text);

    // An older month of the IS, and of the shared personal-data index, whose shards have no copy.
    const missing = [`mlog-${registrar.code}-2021.01`, 'personaldata-2021.01'];
    for (const name of missing) await redIndex(name);

    assertRefused(await byRange(), 'GET /query by range');
    assertRefused(await byUid(), 'GET /query/{uid}');
    assertRefused(await personalData(), 'GET /personal-data');
    const console = await consoleSearch();
    assert.equal(console.status, 503, `the console's search: ${console.status} ${console.text}`);

    await elasticsearch.es('DELETE', `/${missing.join(',')}`);
    const afterwards = { range: await byRange(), uid: await byUid(), personalData: await personalData(), console: await consoleSearch() };
    assert.equal(afterwards.range.json.pagination['record-count'], 2, afterwards.range.text);
    assert.equal(afterwards.uid.json.pagination['record-count'], 3, afterwards.uid.text);
    assert.equal(afterwards.personalData.json.pagination['record-count'], 1, afterwards.personalData.text);
    assert.equal(afterwards.console.json.total, 2, afterwards.console.text);
  });
});

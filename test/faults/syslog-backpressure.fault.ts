/**
 * The syslog door under storage faults, with its own Elasticsearch: paused (SIGSTOP) while a sender
 * writes over TLS — the sender is held by TCP back-pressure and nothing is lost; killed and restarted
 * while rsyslog sends over RELP — every message rsyslog was given is stored (duplicates from its
 * resends counted and printed).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { eventIndexPattern } from '../helpers/elasticsearch-inspection.js';
import { logger, Rsyslog, tlsSyslogClient, waitFor } from '../helpers/syslog-peers.js';
import { TestMLog, type TestSystem } from '../helpers/test-mlog.js';
import { ScenarioElasticsearch, sleep } from './fault-harness.js';

let es: ScenarioElasticsearch;
let mlog: TestMLog;

before(async () => {
  es = await ScenarioElasticsearch.start(9760);
  // Run alone (npm run test:faults), no test Elasticsearch is named: this scenario's own is the one.
  process.env.MLOG_TEST_ELASTICSEARCH_URL ??= es.url;
  mlog = await TestMLog.start({ MLOG_ELASTICSEARCH_URL: es.url, MLOG_WRITE_DEADLINE_SECONDS: '2' }, { syslog: ['tls', 'relp'] });
});

after(async () => {
  await mlog?.stop();
  await es?.stop();
});

/** Stored events of the system whose message holds `marker`, and how many distinct messages they are (the number after the marker). */
async function stored(is: TestSystem, marker: string): Promise<{ documents: number; distinct: number }> {
  const pattern = eventIndexPattern(is.code);
  await es.es('POST', `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
  const answer = await es.es('POST', `/${pattern}/_search?ignore_unavailable=true&allow_no_indices=true`, {
    size: 10_000,
    track_total_hits: true,
    _source: ['event_message'],
    query: { match_phrase: { event_message: marker } },
  });
  const hits: { _source: { event_message: string } }[] = answer?.hits?.hits ?? [];
  const numbers = new Set(hits.map((hit) => hit._source.event_message.split(' ')[1]));
  return { documents: answer?.hits?.total?.value ?? 0, distinct: numbers.size };
}

test('Elasticsearch paused while a sender writes over TLS: the sender is held, then everything is stored once', { timeout: 240_000 }, async () => {
  const is = await mlog.addSystem();
  const socket = await tlsSyslogClient(mlog.syslogPorts.tls as number, mlog.ca.certPem, is.certificate);
  const marker = randomUUID().replace(/-/g, '');
  const total = 6_000;
  const padding = 'p'.repeat(1500);
  let written = 0;
  let done = false;
  const writer = (async () => {
    while (written < total) {
      const text = `<14>1 - host app - Load - ${marker} ${written} ${padding}`;
      written++;
      if (!socket.write(`${Buffer.byteLength(text)} ${text}`)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    done = true;
  })();
  await sleep(1_000);
  es.signal('SIGSTOP');
  await sleep(8_000);
  const before = written;
  await sleep(4_000);
  const duringPause = written - before;
  es.signal('SIGCONT');
  await writer;
  assert.ok(done);
  assert.equal(duringPause, 0, 'the sender could write nothing more in the last 4 s of the pause: MLog stopped reading and TCP held it');
  const final = await waitFor('every message stored', async () => {
    const count = await stored(is, marker);
    return count.documents >= total ? count : undefined;
  }, 180_000);
  socket.end();
  assert.equal(final.documents, total, 'each message stored once');
  process.stdout.write(`syslog TLS, Elasticsearch paused 12 s: ${total} messages sent, ${final.documents} stored\n`);
});

test('Elasticsearch killed and restarted while rsyslog sends over RELP: every message is stored', { timeout: 300_000 }, async () => {
  const is = await mlog.addSystem();
  const c = is.certificate;
  const rsyslog = await Rsyslog.start(mlog.dir, {
    modules: 'module(load="omrelp")',
    actions: `action(type="omrelp" target="127.0.0.1" port="${mlog.syslogPorts.relp}" tls="on" tls.caCert="${mlog.ca.certPath}" tls.myCert="${c.certPath}" tls.myPrivKey="${c.keyPath}" tls.authMode="name" tls.permittedPeer=["localhost"] template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1" action.resumeInterval="1")`,
  });
  try {
    const marker = randomUUID().replace(/-/g, '');
    const total = 300;
    const sending = (async () => {
      for (let index = 0; index < total; index++) {
        await logger(rsyslog.inputPort, ['--rfc5424', '-t', 'relay', '--msgid', 'Fault', `${marker} ${index}`]);
        if (index % 50 === 0) await sleep(200);
      }
    })();
    await sleep(1_500);
    await es.kill();
    await sleep(5_000);
    await es.restart();
    await sending;
    const final = await waitFor('every message stored', async () => {
      const count = await stored(is, marker);
      return count.distinct >= total ? count : undefined;
    }, 180_000).catch((error: Error) => {
      throw new Error(`${error.message}; rsyslogd said: ${rsyslog.log}`);
    });
    assert.equal(final.distinct, total, 'no message missing');
    process.stdout.write(`syslog RELP, Elasticsearch killed 5 s: ${total} messages sent, ${final.distinct} stored, ${final.documents - final.distinct} duplicates from resends\n`);
  } finally {
    await rsyslog.stop();
  }
});

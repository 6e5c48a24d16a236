/**
 * The syslog door's promises under faults of MLog itself and of a read-only Elasticsearch, with MLog
 * as a child process (so it can be killed) and its own Elasticsearch:
 * - MLog SIGKILLed, then SIGTERMed, while rsyslog's omrelp sends and a RELP client counts its
 *   acknowledgements: every message acknowledged is stored, and every message rsyslog was given is
 *   stored in the end (rsyslog resends what was not acknowledged to the restarted MLog);
 * - Elasticsearch read-only (an index block, then a cluster block) while a sender writes over TLS:
 *   the sender is held, nothing is lost, and reading resumes by itself once the block is lifted.
 * Each prints one row of figures, as the other fault tests do.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import type { IssuedCertificate } from '../../scripts/dev-pki.js';
import { freePort } from '../../scripts/mlog-child-process.js';
import { logger, RelpAnswers, relpFrame, Rsyslog, tlsSyslogClient, waitFor } from '../helpers/syslog-peers.js';
import { FIGURES_FILE, makePki, MLogProcess, ScenarioElasticsearch, scenarioCode, sleep, type Pki } from './fault-harness.js';

let es: ScenarioElasticsearch;
let pki: Pki & { others: IssuedCertificate[] };
/** One client certificate per test: a certificate belongs to one system. */
const CERTIFICATES = ['relp-sigkill', 'relp-sigterm', 'readonly-index', 'readonly-cluster'];
let ports: { publicPort: number; adminPort: number; token: string; env: Record<string, string> };
let mlog: MLogProcess;

before(async () => {
  es = await ScenarioElasticsearch.start(9770);
  pki = await makePki(CERTIFICATES);
  const env = { MLOG_RELP_PORT: String(await freePort()), MLOG_SYSLOG_TLS_PORT: String(await freePort()) };
  mlog = await MLogProcess.start(es.url, pki, { env });
  ports = { publicPort: mlog.publicPort, adminPort: mlog.adminPort, token: mlog.token, env };
});

after(async () => {
  if (mlog !== undefined && mlog.child.exitCode === null && mlog.child.signalCode === null) {
    mlog.kill('SIGTERM');
    await mlog.exited;
  }
  await es?.stop();
  if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
});

function certificateOf(name: string): IssuedCertificate {
  return pki.others[CERTIFICATES.indexOf(name)] as IssuedCertificate;
}

async function restartMLog(): Promise<void> {
  mlog = await MLogProcess.start(es.url, pki, ports);
}

/** One row of figures, printed and appended to the fault suite's figures file. */
function printRow(figures: Record<string, string | number>): void {
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ ...figures, at: new Date().toISOString() })}\n`);
  process.stdout.write(`\n| ${Object.entries(figures).map(([name, value]) => (name === 'scenario' ? String(value) : `${name} ${value}`)).join(' | ')} |\n`);
}

/** The number each stored message of `code` holding `marker` ends with, and how many documents hold the marker (read in pages). */
async function storedNumbers(code: string, marker: string): Promise<{ documents: number; numbers: Set<string> }> {
  const pattern = `mlog-${code}-*`;
  await es.es('POST', `/${pattern}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
  const numbers = new Set<string>();
  let documents = 0;
  let after: unknown[] | undefined;
  for (;;) {
    const answer = await es.es('POST', `/${pattern}/_search?ignore_unavailable=true&allow_no_indices=true`, {
      size: 5_000,
      _source: ['event_message'],
      query: { match_phrase: { event_message: marker } },
      sort: [{ '@id': 'asc' }],
      ...(after === undefined ? {} : { search_after: after }),
    });
    const hits: { _source: { event_message: string }; sort: unknown[] }[] = answer?.hits?.hits ?? [];
    for (const hit of hits) numbers.add(hit._source.event_message.split(' ').at(-1) ?? '');
    documents += hits.length;
    if (hits.length < 5_000) return { documents, numbers };
    after = hits.at(-1)?.sort;
  }
}

/**
 * A RELP client that sends `total` messages (`<marker> r<n>`), up to `window` unacknowledged, and
 * keeps the numbers MLog acknowledged with 200 OK; it stops at the first connection loss.
 */
async function countingRelpClient(certificate: IssuedCertificate, marker: string, total: number, window: number): Promise<{ acknowledged: Set<string>; done: Promise<void> }> {
  const socket: TLSSocket = await tlsSyslogClient(Number(ports.env.MLOG_RELP_PORT), pki.caPem, certificate);
  socket.on('error', () => {});
  const answers = new RelpAnswers(socket);
  const acknowledged = new Set<string>();
  socket.write(relpFrame(1, 'open', 'relp_version=0\nrelp_software=faults\ncommands=syslog'));
  const open = await answers.next();
  assert.match(open.data, /^200 OK/);
  let next = 0;
  const send = () => {
    const text = `<14>1 - host relp-client - Fault - ${marker} r${next}`;
    socket.write(relpFrame(next + 2, 'syslog', text));
    next++;
  };
  const done = (async () => {
    for (let index = 0; index < window && next < total; index++) send();
    const closed = new Promise<undefined>((resolve) => socket.once('close', () => resolve(undefined)));
    for (;;) {
      const frame = await Promise.race([answers.next(), closed]);
      if (frame === undefined || frame.command !== 'rsp') return;
      if (frame.data.startsWith('200')) acknowledged.add(`r${frame.txnr - 2}`);
      if (acknowledged.size === total) {
        socket.end();
        return;
      }
      if (next < total) {
        await sleep(5);
        send();
      }
    }
  })();
  return { acknowledged, done };
}

/** rsyslog with an omrelp action to MLog, fed by logger; resends whatever MLog did not acknowledge. */
function startRelpRsyslog(client: IssuedCertificate): Promise<Rsyslog> {
  return Rsyslog.start(pki.dir, {
    modules: 'module(load="omrelp")',
    actions: `action(type="omrelp" target="127.0.0.1" port="${ports.env.MLOG_RELP_PORT}" tls="on" tls.caCert="${pki.env.MLOG_TLS_CLIENT_CA}" tls.myCert="${client.certPath}" tls.myPrivKey="${client.keyPath}" tls.authMode="name" tls.permittedPeer=["localhost"] template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1" action.resumeInterval="1")`,
  });
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`MLog ${signal === 'SIGKILL' ? 'killed (SIGKILL)' : 'terminated (SIGTERM)'} while rsyslog sends over RELP: every acknowledged message stored, the rest resent by rsyslog`, { timeout: 300_000 }, async () => {
    const code = scenarioCode(`relp-${signal.toLowerCase()}`);
    const certificate = certificateOf(`relp-${signal.toLowerCase()}`);
    await mlog.addSystem(code, certificate);
    const rsyslog = await startRelpRsyslog(certificate);
    const started = Date.now();
    try {
      const marker = randomUUID().replace(/-/g, '');
      const total = 400;
      const sending = (async () => {
        for (let index = 0; index < total; index++) {
          await logger(rsyslog.inputPort, ['--rfc5424', '-t', 'relay', '--msgid', 'Fault', `${marker} ${index}`]);
          if (index % 40 === 0) await sleep(150);
        }
      })();
      const client = await countingRelpClient(certificate, marker, 100_000, 16);
      // The fault comes once messages are flowing: some acknowledged, others in flight.
      await waitFor('20 messages acknowledged to the RELP client', async () => (client.acknowledged.size >= 20 ? true : undefined), 60_000);
      await sleep(500);
      mlog.kill(signal);
      const exit = await mlog.exited;
      await client.done;
      const acknowledgedByClient = new Set(client.acknowledged);
      await sleep(1_000);
      await restartMLog();
      await sending;

      const expected = [...Array.from({ length: total }, (_, index) => String(index)), ...acknowledgedByClient];
      const final = await waitFor('every message stored', async () => {
        const stored = await storedNumbers(code, marker);
        return expected.every((number) => stored.numbers.has(number)) ? stored : undefined;
      }, 180_000).catch(async (error: Error) => {
        const stored = await storedNumbers(code, marker);
        const missing = expected.filter((number) => !stored.numbers.has(number));
        throw new Error(`${error.message}: ${missing.length} missing (${missing.slice(0, 10).join(', ')}…); rsyslogd said: ${rsyslog.log}`);
      });
      // What the RELP client sent but did not see acknowledged may or may not be stored; nothing acknowledged is missing.
      const acknowledgedMissing = [...acknowledgedByClient].filter((number) => !final.numbers.has(number)).length;
      const rsyslogMissing = Array.from({ length: total }, (_, index) => String(index)).filter((number) => !final.numbers.has(number)).length;
      const stored = await storedNumbers(code, marker);
      printRow({
        scenario: `syslog RELP, MLog ${signal}`,
        'MLog exit': exit.signal ?? String(exit.code),
        'RELP client acknowledged': acknowledgedByClient.size,
        'acknowledged missing': acknowledgedMissing,
        'rsyslog messages': total,
        'rsyslog messages missing': rsyslogMissing,
        'duplicates from resends': stored.documents - stored.numbers.size,
        seconds: Math.round((Date.now() - started) / 1000),
      });
      assert.ok(acknowledgedByClient.size > 0, 'the RELP client had messages acknowledged before the fault');
      assert.equal(acknowledgedMissing, 0, 'every message MLog acknowledged is stored');
      assert.equal(rsyslogMissing, 0, 'every message rsyslog was given is stored in the end');
      if (signal === 'SIGTERM') assert.equal(exit.code, 0, `MLog stopped cleanly on SIGTERM: ${exit.output.slice(-2000)}`);
    } finally {
      await rsyslog.stop();
    }
  });
}

for (const block of ['index', 'cluster'] as const) {
  test(`Elasticsearch read-only (${block === 'index' ? 'index.blocks.read_only_allow_delete' : 'cluster.blocks.read_only'}) while a sender writes over TLS: the sender is held, nothing lost, reading resumes when the block is lifted`, { timeout: 300_000 }, async () => {
    const code = scenarioCode(`readonly-${block}`);
    const certificate = certificateOf(`readonly-${block}`);
    await mlog.addSystem(code, certificate);
    const socket = await tlsSyslogClient(Number(ports.env.MLOG_SYSLOG_TLS_PORT), pki.caPem, certificate);
    const marker = randomUUID().replace(/-/g, '');
    // More than MLog holds unstored (2,000 messages, 8 MiB) plus what the kernel's socket buffers take, and more than MLog
    // stores between its first stored messages and the block, so that the block holds the sender.
    const total = 40_000;
    const padding = 'p'.repeat(1500);
    let written = 0;
    const writer = (async () => {
      while (written < total) {
        const text = `<14>1 - host app - Load - ${marker} ${padding} ${written}`;
        written++;
        if (!socket.write(`${Buffer.byteLength(text)} ${text}`)) await new Promise((resolve) => socket.once('drain', resolve));
      }
    })();
    const started = Date.now();
    // The IS's index exists once its first messages are stored; then the block is set.
    await waitFor('the first messages stored', async () => ((await storedNumbers(code, marker)).documents > 0 ? true : undefined), 60_000);
    const setBlock = (on: boolean) =>
      block === 'index'
        ? es.es('PUT', `/mlog-${code}-*/_settings`, { 'index.blocks.read_only_allow_delete': on ? true : null })
        : es.es('PUT', '/_cluster/settings', { persistent: { 'cluster.blocks.read_only': on ? true : null } });
    await setBlock(true);
    const blockedAt = Date.now();
    let heldAt = 0;
    try {
      await sleep(8_000);
      const before = written;
      await sleep(4_000);
      const whileBlocked = written - before;
      heldAt = written;
      assert.ok(written < total, `the sender had written all ${total} messages before the block held it`);
      assert.equal(whileBlocked, 0, 'the sender could write nothing in the last 4 s of the block: MLog stopped reading and TCP held it');
    } finally {
      await setBlock(false);
    }
    const liftedAt = Date.now();
    await writer;
    const final = await waitFor('every message stored', async () => {
      const stored = await storedNumbers(code, marker);
      return stored.numbers.size >= total ? stored : undefined;
    }, 180_000);
    socket.end();
    printRow({
      scenario: `syslog TLS, Elasticsearch read-only (${block} block, ${Math.round((liftedAt - blockedAt) / 1000)} s)`,
      sent: total,
      stored: final.numbers.size,
      'stored twice': final.documents - final.numbers.size,
      'sender held at message': heldAt,
      seconds: Math.round((Date.now() - started) / 1000),
    });
    assert.equal(final.numbers.size, total, 'no message lost');
    assert.equal(final.documents, total, 'each message stored once');
  });
}

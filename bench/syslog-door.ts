/**
 * `npm run bench:syslog`: syslog messages per second through MLog over TLS (identified, parsed,
 * validated, durably stored), against Debian's rsyslog taking the same messages into the same
 * Elasticsearch with omelasticsearch, in the same run; the p99 of RELP acknowledgements; MLog's RSS.
 * Prints figures; asserts nothing. Elasticsearch: MLOG_BENCH_ELASTICSEARCH_URL, or a local one started here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate } from '../scripts/dev-pki.js';
import { startLocalElasticsearch, type LocalElasticsearch } from '../scripts/local-elasticsearch.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/logging/logger.js';
import { startMLog } from '../src/main.js';
import { octetCountedFrames, quantile, relpAcknowledgements, timeMLogOverTls, timeRsyslogToElasticsearch } from './syslog-scenario.js';

const MESSAGES = Number(process.env.MLOG_BENCH_SYSLOG_MESSAGES ?? 20_000);
const CONNECTIONS = 4;
const RELP_MESSAGES = 2_000;
const RELP_WINDOW = 32;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mlog-bench-syslog-'));
  let elasticsearch: LocalElasticsearch | undefined;
  let url = process.env.MLOG_BENCH_ELASTICSEARCH_URL;
  if (url === undefined) {
    elasticsearch = await startLocalElasticsearch({ port: 9850, dataDir: path.join(dir, 'es'), heap: '1g' });
    url = elasticsearch.url;
  }
  const ca = await createCertificateAuthority(dir, 'Bench CA');
  const server = await issueServerCertificate(ca, dir, { name: 'server', hosts: ['localhost', '127.0.0.1'] });
  const client = await issueClientCertificate(ca, dir, { name: 'bench-syslog' });
  const mlog = await startMLog(
    loadConfig({
      MLOG_ELASTICSEARCH_URL: url,
      MLOG_HOST: '127.0.0.1',
      MLOG_PORT: '0',
      MLOG_ADMIN_PORT: '0',
      MLOG_TLS_CERT: server.certPath,
      MLOG_TLS_KEY: server.keyPath,
      MLOG_TLS_CLIENT_CA: ca.certPath,
      MLOG_SYSLOG_TLS_PORT: '0',
      MLOG_RELP_PORT: '0',
      MLOG_RETENTION_SCHEDULE: 'off',
    }),
    { logger: createLogger('error', true) },
  );
  const code = `bench-syslog-${randomUUID().slice(0, 8)}`;
  await mlog.registry.add({ code, name: 'Syslog bench', idno: '1003600000000', certificates: [client.certPem], status: 'active' });
  const tls = { caPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem };
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    const frames = octetCountedFrames(randomUUID(), MESSAGES);
    const mlogSeconds = await timeMLogOverTls({ url, port: mlog.syslogPorts.tls as number, tls, frames, connections: CONNECTIONS, indexPattern: `mlog-${code}-*`, expected: MESSAGES });
    const rsyslogSeconds = await timeRsyslogToElasticsearch({ url, workDir: dir, frames, connections: CONNECTIONS });
    const latencies = await relpAcknowledgements({ port: mlog.syslogPorts.relp as number, tls, messages: RELP_MESSAGES, window: RELP_WINDOW });
    const mlogRate = MESSAGES / mlogSeconds;
    const rsyslogRate = MESSAGES / rsyslogSeconds;
    say(`syslog over TLS, ${MESSAGES} messages on ${CONNECTIONS} connections, until all are searchable in Elasticsearch:`);
    say(`  MLog (identified, parsed, validated, durably stored):   ${mlogRate.toFixed(0)} messages/s (${mlogSeconds.toFixed(1)} s)`);
    say(`  rsyslog imtcp → omelasticsearch (bulk, same messages):  ${rsyslogRate.toFixed(0)} messages/s (${rsyslogSeconds.toFixed(1)} s)`);
    say(`  ratio MLog / rsyslog: ${(mlogRate / rsyslogRate).toFixed(2)}`);
    say(`RELP acknowledgements (${RELP_MESSAGES} messages, ${RELP_WINDOW} in flight): p50 ${quantile(latencies, 0.5).toFixed(0)} ms, p99 ${quantile(latencies, 0.99).toFixed(0)} ms, max ${latencies.at(-1)?.toFixed(0)} ms`);
    say(`peak RSS of the process running MLog (and this benchmark's clients): ${(peakRss / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    clearInterval(sampler);
    await mlog.stop();
    await elasticsearch?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

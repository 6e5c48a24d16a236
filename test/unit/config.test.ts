import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, loadElasticsearchConfig } from '../../src/config/config.js';
import { ConfigurationError } from '../../src/errors/mlog-error.js';

type Env = Record<string, string | undefined>;

const minimal: Env = {
  MLOG_ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
  MLOG_TLS_CERT: '/etc/mlog/server.pem',
  MLOG_TLS_KEY: '/etc/mlog/server.key',
  MLOG_TLS_CLIENT_CA: '/etc/mlog/clients-ca.pem',
};

function throwsConfiguration(fn: () => unknown, variable: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigurationError, `expected a ConfigurationError, got ${String(error)}`);
    assert.ok(error.message.includes(variable), `"${error.message}" should name ${variable}`);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    return true;
  });
}

describe('loadConfig', () => {
  test('defaults', () => {
    const config = loadConfig({ ...minimal });
    assert.deepEqual(config, {
      elasticsearch: { nodes: ['http://127.0.0.1:9200'] },
      indices: { eventShards: 1, personalDataShards: 1, internalShards: 1, writeActiveShards: 1 },
      publicApi: {
        host: '0.0.0.0',
        port: 8443,
        tlsCertPath: '/etc/mlog/server.pem',
        tlsKeyPath: '/etc/mlog/server.key',
        tlsClientCaPath: '/etc/mlog/clients-ca.pem',
        tlsHandshakeTimeoutSeconds: 10,
      },
      proxies: { certificateHeader: 'x-ssl-client-cert' },
      development: {},
      adminApi: { host: '127.0.0.1', port: 8081 },
      console: { sessionIdleSeconds: 1800, sessionMaxSeconds: 43_200, lockoutSeconds: 900 },
      oidc: { roleClaim: 'mlog_role' },
      syslog: { maxMessageBytes: 65536 },
      workers: 1,
      logLevel: 'info',
      registryCacheSeconds: 5,
      limits: { maxInFlight: 512, maxInFlightPerSystem: 128, maxRegisterBytes: 8 * 1024 * 1024, maxRegisterBytesPerSystem: 768 * 1024, registerDirect: 'on', queryDirect: 'on', writeDeadlineSeconds: 10, shutdownGraceSeconds: 10 },
      groupCommit: { waitMs: 1, maxOperations: 500, maxBytes: 5 * 1024 * 1024, maxInFlight: 8, maxWaitingEventsPerSystem: 20_000, maxWaitingBytesPerSystem: 16 * 1024 * 1024, maxWaitingBytes: 64 * 1024 * 1024 },
      retention: { schedule: '15 2 * * *', personalDataMonths: 120, rejectionsMonths: 12 },
      idempotency: { purgeSchedule: '41 * * * *' },
      notifications: { retryMinutes: 10, firstRetryDelaySeconds: 5, attemptTimeoutSeconds: 10 },
      smtp: {},
      alerts: { schedule: '* * * * *', overlapSeconds: 120 },
      evidence: { mode: 'on', checkpointSeconds: 60, sealAfterSeconds: 300 },
    });
    assert.equal(config.adminApi.token, undefined);
  });

  test('evidence: MLOG_EVIDENCE on or off, checkpoint and seal-after seconds above 0, a webhook URL of http or https; a wrong value names the variable', () => {
    assert.deepEqual(
      loadConfig({ ...minimal, MLOG_EVIDENCE: 'off', MLOG_CHECKPOINT_SECONDS: '1', MLOG_EVIDENCE_SEAL_AFTER_SECONDS: '45', MLOG_SIGNING_KEY: '/etc/mlog/signing.pem', MLOG_CHECKPOINT_WEBHOOK_URL: 'https://notary.example.gov/mlog' }).evidence,
      { mode: 'off', checkpointSeconds: 1, sealAfterSeconds: 45, signingKeyPath: '/etc/mlog/signing.pem', webhookUrl: 'https://notary.example.gov/mlog' },
    );
    assert.throws(() => loadConfig({ ...minimal, MLOG_EVIDENCE_SEAL_AFTER_SECONDS: '-5' }), /MLOG_EVIDENCE_SEAL_AFTER_SECONDS="-5" is not a number of seconds above 0/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_EVIDENCE: 'yes' }), /MLOG_EVIDENCE="yes" is not one of on, off/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_CHECKPOINT_SECONDS: '0' }), /MLOG_CHECKPOINT_SECONDS="0" is not a number of seconds above 0/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_CHECKPOINT_WEBHOOK_URL: 'ftp://x' }), /MLOG_CHECKPOINT_WEBHOOK_URL/);
  });

  test('syslog listeners: off unless their port is set; a bad port or message limit names the variable', () => {
    assert.deepEqual(loadConfig({ ...minimal, MLOG_SYSLOG_TLS_PORT: '6514', MLOG_RELP_PORT: '2514', MLOG_SYSLOG_MAX_MESSAGE_BYTES: '8192' }).syslog, { tlsPort: 6514, relpPort: 2514, maxMessageBytes: 8192 });
    assert.throws(() => loadConfig({ ...minimal, MLOG_SYSLOG_TCP_PORT: '70000' }), /MLOG_SYSLOG_TCP_PORT="70000" is not a port number/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_SYSLOG_MAX_MESSAGE_BYTES: '0' }), /MLOG_SYSLOG_MAX_MESSAGE_BYTES="0" is not a number of bytes/);
  });

  test('limits are read; zero or a non-number names the variable', () => {
    const config = loadConfig({ ...minimal, MLOG_MAX_IN_FLIGHT: '64', MLOG_MAX_IN_FLIGHT_PER_IS: '8', MLOG_WRITE_DEADLINE_SECONDS: '3', MLOG_SHUTDOWN_GRACE_SECONDS: '20' });
    assert.deepEqual(config.limits, { maxInFlight: 64, maxInFlightPerSystem: 8, maxRegisterBytes: 8 * 1024 * 1024, maxRegisterBytesPerSystem: 768 * 1024, registerDirect: 'on', queryDirect: 'on', writeDeadlineSeconds: 3, shutdownGraceSeconds: 20 });
    assert.throws(() => loadConfig({ ...minimal, MLOG_MAX_IN_FLIGHT: '0' }), /MLOG_MAX_IN_FLIGHT="0" is not a whole number of 1 or more/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_WRITE_DEADLINE_SECONDS: 'ten' }), /MLOG_WRITE_DEADLINE_SECONDS/);
    assert.equal(loadConfig({ ...minimal, MLOG_QUERY_DIRECT: 'off' }).limits.queryDirect, 'off');
    assert.throws(() => loadConfig({ ...minimal, MLOG_QUERY_DIRECT: 'yes' }), /MLOG_QUERY_DIRECT="yes" is not one of on, off/);
  });

  test('TLS handshake timeout: whole seconds of 1 or more; 0 or a fraction names the variable', () => {
    assert.equal(loadConfig({ ...minimal, MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS: '3' }).publicApi.tlsHandshakeTimeoutSeconds, 3);
    assert.throws(() => loadConfig({ ...minimal, MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS: '0' }), /MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS="0" is not a whole number of 1 or more/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS: '2.5' }), /MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS/);
  });

  test('group commit: 0 ms wait means the next tick; a bad value names the variable', () => {
    const config = loadConfig({ ...minimal, MLOG_GROUP_COMMIT_WAIT_MS: '0', MLOG_GROUP_COMMIT_MAX_OPERATIONS: '2000', MLOG_GROUP_COMMIT_MAX_IN_FLIGHT: '2' });
    assert.deepEqual(config.groupCommit, { waitMs: 0, maxOperations: 2000, maxBytes: 5 * 1024 * 1024, maxInFlight: 2, maxWaitingEventsPerSystem: 20_000, maxWaitingBytesPerSystem: 16 * 1024 * 1024, maxWaitingBytes: 64 * 1024 * 1024 });
    assert.throws(() => loadConfig({ ...minimal, MLOG_GROUP_COMMIT_WAIT_MS: '-1' }), /MLOG_GROUP_COMMIT_WAIT_MS="-1" is not a whole number of milliseconds/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_GROUP_COMMIT_MAX_BYTES: '0' }), /MLOG_GROUP_COMMIT_MAX_BYTES/);
  });

  test('bounds on bytes being registered and on events waiting for a bulk are read; a bad value names the variable', () => {
    const config = loadConfig({
      ...minimal,
      MLOG_MAX_REGISTER_BYTES: '33554432',
      MLOG_MAX_REGISTER_BYTES_PER_IS: '1048576',
      MLOG_GROUP_COMMIT_MAX_WAITING_EVENTS_PER_IS: '5000',
      MLOG_GROUP_COMMIT_MAX_WAITING_BYTES_PER_IS: '4194304',
      MLOG_GROUP_COMMIT_MAX_WAITING_BYTES: '134217728',
    });
    assert.equal(config.limits.maxRegisterBytes, 33_554_432);
    assert.equal(config.limits.maxRegisterBytesPerSystem, 1_048_576);
    assert.equal(config.groupCommit.maxWaitingEventsPerSystem, 5_000);
    assert.equal(config.groupCommit.maxWaitingBytesPerSystem, 4_194_304);
    assert.equal(config.groupCommit.maxWaitingBytes, 134_217_728);
    assert.throws(() => loadConfig({ ...minimal, MLOG_MAX_REGISTER_BYTES_PER_IS: '0' }), /MLOG_MAX_REGISTER_BYTES_PER_IS="0" is not a number of bytes/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_GROUP_COMMIT_MAX_WAITING_BYTES: '1e9' }), /MLOG_GROUP_COMMIT_MAX_WAITING_BYTES/);
  });

  test('retention: a schedule, "off", and months are read; bad values name the variable', () => {
    const config = loadConfig({
      ...minimal,
      MLOG_RETENTION_SCHEDULE: '0 3 * * 1',
      MLOG_PERSONALDATA_RETENTION_MONTHS: '240',
      MLOG_REJECTIONS_RETENTION_MONTHS: '6',
    });
    assert.deepEqual(config.retention, { schedule: '0 3 * * 1', personalDataMonths: 240, rejectionsMonths: 6 });
    assert.equal(loadConfig({ ...minimal, MLOG_RETENTION_SCHEDULE: 'off' }).retention.schedule, undefined);
    assert.throws(() => loadConfig({ ...minimal, MLOG_RETENTION_SCHEDULE: 'every night' }), /MLOG_RETENTION_SCHEDULE="every night" is not a cron expression/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_RETENTION_SCHEDULE: '* * *' }), /MLOG_RETENTION_SCHEDULE/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_PERSONALDATA_RETENTION_MONTHS: '0' }), /MLOG_PERSONALDATA_RETENTION_MONTHS="0" is not a number of months/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_REJECTIONS_RETENTION_MONTHS: 'a year' }), /MLOG_REJECTIONS_RETENTION_MONTHS/);
  });

  test('idempotency purge: a schedule or "off"; a bad value names the variable', () => {
    assert.equal(loadConfig({ ...minimal, MLOG_IDEMPOTENCY_PURGE_SCHEDULE: '*/10 * * * *' }).idempotency.purgeSchedule, '*/10 * * * *');
    assert.equal(loadConfig({ ...minimal, MLOG_IDEMPOTENCY_PURGE_SCHEDULE: 'off' }).idempotency.purgeSchedule, undefined);
  });

  test('alert notifications: fractions of minutes and seconds; an SMTP URL of smtp or smtps, never repeated in the message', () => {
    assert.equal(loadConfig({ ...minimal, MLOG_ALERT_RETRY_MINUTES: '0.5' }).notifications.retryMinutes, 0.5);
    assert.throws(() => loadConfig({ ...minimal, MLOG_ALERT_RETRY_MINUTES: '0' }), /MLOG_ALERT_RETRY_MINUTES="0" is not a number of minutes above 0/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS: '-1' }), /MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS="-1" is not a number of seconds above 0/);
    assert.equal(loadConfig({ ...minimal, MLOG_SMTP_URL: 'smtps://u:p@smtp.example.gov:465' }).smtp.url, 'smtps://u:p@smtp.example.gov:465');
    assert.throws(
      () => loadConfig({ ...minimal, MLOG_SMTP_URL: 'https://u:hunter2@smtp.example.gov' }),
      (error: Error) => /MLOG_SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/.test(error.message) && !error.message.includes('hunter2'),
    );
    assert.throws(() => loadConfig({ ...minimal, MLOG_CONSOLE_URL: 'mlog.example.gov' }), /MLOG_CONSOLE_URL/);
    assert.throws(() => loadConfig({ ...minimal, MLOG_IDEMPOTENCY_PURGE_SCHEDULE: 'hourly' }), /MLOG_IDEMPOTENCY_PURGE_SCHEDULE="hourly" is not a cron expression/);
  });

  test('explicit values are read and trimmed', () => {
    const config = loadConfig({
      ...minimal,
      MLOG_PORT: ' 9443 ',
      MLOG_HOST: '127.0.0.1',
      MLOG_ADMIN_PORT: '9081',
      MLOG_ADMIN_HOST: '0.0.0.0',
      MLOG_ADMIN_TOKEN: 'a-long-random-admin-token',
      MLOG_LOG_LEVEL: 'debug',
      MLOG_REGISTRY_CACHE_SECONDS: '0.5',
    });
    assert.equal(config.publicApi.port, 9443);
    assert.equal(config.publicApi.host, '127.0.0.1');
    assert.equal(config.adminApi.port, 9081);
    assert.equal(config.adminApi.host, '0.0.0.0');
    assert.equal(config.adminApi.token, 'a-long-random-admin-token');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.registryCacheSeconds, 0.5);
  });

  test('empty values mean unset', () => {
    const config = loadConfig({ ...minimal, MLOG_PORT: '', MLOG_ADMIN_TOKEN: '  ', MLOG_LOG_LEVEL: '' });
    assert.equal(config.publicApi.port, 8443);
    assert.equal(config.adminApi.token, undefined);
    assert.equal(config.logLevel, 'info');
  });

  test('reverse proxies: IPs and CIDRs, comma separated, and a header name; a bad value names the variable', () => {
    const config = loadConfig({ ...minimal, MLOG_TRUSTED_PROXIES: ' 10.0.0.5, 10.1.0.0/16 ,2001:db8::/32', MLOG_CLIENT_CERT_HEADER: 'X-Client-Certificate' });
    assert.deepEqual(config.proxies, { trusted: ['10.0.0.5', '10.1.0.0/16', '2001:db8::/32'], certificateHeader: 'x-client-certificate' });
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_TRUSTED_PROXIES: '10.0.0.0/33' }), 'MLOG_TRUSTED_PROXIES');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_TRUSTED_PROXIES: 'proxy.example' }), 'MLOG_TRUSTED_PROXIES');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_TRUSTED_PROXIES: ',' }), 'MLOG_TRUSTED_PROXIES');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_CLIENT_CERT_HEADER: 'X Client Cert' }), 'MLOG_CLIENT_CERT_HEADER');
  });

  test('a bad port names the variable', () => {
    for (const value of ['abc', '65536', '-1', '80.5', '123456', '8443x']) {
      throwsConfiguration(() => loadConfig({ ...minimal, MLOG_PORT: value }), 'MLOG_PORT');
      throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ADMIN_PORT: value }), 'MLOG_ADMIN_PORT');
    }
  });

  test('the highest port is accepted', () => {
    assert.equal(loadConfig({ ...minimal, MLOG_PORT: '65535' }).publicApi.port, 65535);
  });

  test('a too-short admin token names the variable; 16 characters is enough', () => {
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ADMIN_TOKEN: 'x'.repeat(15) }), 'MLOG_ADMIN_TOKEN');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ADMIN_TOKEN: ' short ' }), 'MLOG_ADMIN_TOKEN');
    assert.equal(loadConfig({ ...minimal, MLOG_ADMIN_TOKEN: 'x'.repeat(16) }).adminApi.token, 'x'.repeat(16));
    assert.throws(() => loadConfig({ ...minimal, MLOG_ADMIN_TLS_CERT: '/etc/mlog/admin.pem' }), /MLOG_ADMIN_TLS_CERT and MLOG_ADMIN_TLS_KEY must be set together/);
    assert.deepEqual(
      (({ tlsCertPath, tlsKeyPath }) => ({ tlsCertPath, tlsKeyPath }))(loadConfig({ ...minimal, MLOG_ADMIN_TLS_CERT: '/etc/mlog/admin.pem', MLOG_ADMIN_TLS_KEY: '/etc/mlog/admin.key' }).adminApi),
      { tlsCertPath: '/etc/mlog/admin.pem', tlsKeyPath: '/etc/mlog/admin.key' },
    );
  });

  test('OpenID Connect: issuer, client id, secret and callback together or none; the issuer https, the secret 16+ characters', () => {
    const oidc = {
      MLOG_OIDC_ISSUER: 'https://login.example.gov/realms/mlog',
      MLOG_OIDC_CLIENT_ID: 'mlog-console',
      MLOG_OIDC_CLIENT_SECRET: 's'.repeat(16),
      MLOG_OIDC_REDIRECT_URL: 'https://mlog.example.gov/console/api/oidc/callback',
    };
    assert.deepEqual(loadConfig({ ...minimal, ...oidc, MLOG_OIDC_ROLE_CLAIM: 'groups_role' }).oidc, {
      issuer: 'https://login.example.gov/realms/mlog',
      clientId: 'mlog-console',
      clientSecret: 's'.repeat(16),
      redirectUrl: 'https://mlog.example.gov/console/api/oidc/callback',
      roleClaim: 'groups_role',
    });
    for (const left of Object.keys(oidc)) {
      assert.throws(() => loadConfig({ ...minimal, ...oidc, [left]: undefined }), /MLOG_OIDC_ISSUER, MLOG_OIDC_CLIENT_ID, MLOG_OIDC_CLIENT_SECRET and MLOG_OIDC_REDIRECT_URL must be set together/);
    }
    throwsConfiguration(() => loadConfig({ ...minimal, ...oidc, MLOG_OIDC_ISSUER: 'http://login.example.gov' }), 'MLOG_OIDC_ISSUER');
    throwsConfiguration(() => loadConfig({ ...minimal, ...oidc, MLOG_OIDC_REDIRECT_URL: 'not a url' }), 'MLOG_OIDC_REDIRECT_URL');
    throwsConfiguration(() => loadConfig({ ...minimal, ...oidc, MLOG_OIDC_CLIENT_SECRET: 'short' }), 'MLOG_OIDC_CLIENT_SECRET');
  });

  test('a bad Elasticsearch URL names the variable', () => {
    for (const value of ['not a url', 'localhost:9200', 'ftp://es:21', 'http://ok:9200,also bad', ',,']) {
      throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ELASTICSEARCH_URL: value }), 'MLOG_ELASTICSEARCH_URL');
    }
  });

  test('a missing Elasticsearch URL names the variable', () => {
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ELASTICSEARCH_URL: undefined }), 'MLOG_ELASTICSEARCH_URL');
  });

  test('missing TLS files name the variable', () => {
    for (const name of ['MLOG_TLS_CERT', 'MLOG_TLS_KEY', 'MLOG_TLS_CLIENT_CA']) {
      throwsConfiguration(() => loadConfig({ ...minimal, [name]: undefined }), name);
      throwsConfiguration(() => loadConfig({ ...minimal, [name]: ' ' }), name);
    }
  });

  test('workers: a whole number of 1 or more; anything else names the variable', () => {
    assert.equal(loadConfig({ ...minimal, MLOG_WORKERS: ' 4 ' }).workers, 4);
    assert.equal(loadConfig({ ...minimal, MLOG_WORKERS: '1' }).workers, 1);
    for (const value of ['0', '-2', '1.5', 'two', '2x']) {
      throwsConfiguration(() => loadConfig({ ...minimal, MLOG_WORKERS: value }), 'MLOG_WORKERS');
    }
    assert.throws(() => loadConfig({ ...minimal, MLOG_WORKERS: '0' }), /MLOG_WORKERS="0" is not a whole number of 1 or more\./);
  });

  test('a bad log level names the variable', () => {
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_LOG_LEVEL: 'verbose' }), 'MLOG_LOG_LEVEL');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_LOG_LEVEL: 'INFO' }), 'MLOG_LOG_LEVEL');
  });

  test('a bad cache duration names the variable', () => {
    for (const value of ['-1', 'five', 'Infinity']) {
      throwsConfiguration(() => loadConfig({ ...minimal, MLOG_REGISTRY_CACHE_SECONDS: value }), 'MLOG_REGISTRY_CACHE_SECONDS');
    }
  });

  test('a username without a password (and the reverse) names the variables', () => {
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ELASTICSEARCH_USERNAME: 'elastic' }), 'MLOG_ELASTICSEARCH_PASSWORD');
    throwsConfiguration(() => loadConfig({ ...minimal, MLOG_ELASTICSEARCH_PASSWORD: 'secret' }), 'MLOG_ELASTICSEARCH_USERNAME');
  });
});

describe('loadElasticsearchConfig', () => {
  test('several comma-separated nodes, blanks ignored', () => {
    assert.deepEqual(loadElasticsearchConfig({ MLOG_ELASTICSEARCH_URL: 'http://es1:9200, https://es2:9200 ,' }), {
      nodes: ['http://es1:9200', 'https://es2:9200'],
    });
  });

  test('credentials and CA are read', () => {
    assert.deepEqual(
      loadElasticsearchConfig({
        MLOG_ELASTICSEARCH_URL: 'https://es:9200',
        MLOG_ELASTICSEARCH_API_KEY: 'key',
        MLOG_ELASTICSEARCH_USERNAME: 'elastic',
        MLOG_ELASTICSEARCH_PASSWORD: 'secret',
        MLOG_ELASTICSEARCH_CA: '/etc/mlog/es-ca.pem',
      }),
      { nodes: ['https://es:9200'], apiKey: 'key', username: 'elastic', password: 'secret', caPath: '/etc/mlog/es-ca.pem' },
    );
  });

  test('the fallback URL is used only when the variable is unset', () => {
    assert.deepEqual(loadElasticsearchConfig({}, 'http://127.0.0.1:9201').nodes, ['http://127.0.0.1:9201']);
    assert.deepEqual(loadElasticsearchConfig({ MLOG_ELASTICSEARCH_URL: 'http://es:9200' }, 'http://127.0.0.1:9201').nodes, ['http://es:9200']);
  });

  test('without URL or fallback it names the variable', () => {
    throwsConfiguration(() => loadElasticsearchConfig({}), 'MLOG_ELASTICSEARCH_URL');
  });

  test('a bad fallback URL is refused too', () => {
    throwsConfiguration(() => loadElasticsearchConfig({}, 'nonsense'), 'MLOG_ELASTICSEARCH_URL');
  });

  test('a username without a password names the variables', () => {
    throwsConfiguration(() => loadElasticsearchConfig({ MLOG_ELASTICSEARCH_URL: 'http://es:9200', MLOG_ELASTICSEARCH_USERNAME: 'elastic' }), 'MLOG_ELASTICSEARCH_USERNAME');
    throwsConfiguration(
      () => loadElasticsearchConfig({ MLOG_ELASTICSEARCH_URL: 'http://es:9200', MLOG_ELASTICSEARCH_USERNAME: 'elastic', MLOG_ELASTICSEARCH_PASSWORD: ' ' }),
      'MLOG_ELASTICSEARCH_PASSWORD',
    );
  });
});

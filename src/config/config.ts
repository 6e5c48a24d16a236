import { ConfigurationError } from '../errors/mlog-error.js';
import {
  activeShardCount,
  addressList,
  headerName,
  anyText,
  atLeastCharacters,
  byteCount,
  cronOrOff,
  loadDeclared,
  markdownTable,
  milliseconds,
  months,
  nodeUrls,
  oneOf,
  optional,
  portNumber,
  positiveNumber,
  replicaCount,
  required,
  seconds,
  settingsOf,
  shardCount,
  smtpUrl,
  text,
  urlOf,
  wholeCount,
  withDefault,
  type ConfigOf,
  type Env,
} from './settings.js';

/**
 * Everything MLog reads from its environment, declared once: the shape of MLogConfig, what each
 * variable means, how it is checked and its default. The loader below, the README's configuration
 * table (`npm run docs:config`) and the configuration type are all made from it.
 */
export const CONFIGURATION = {
  elasticsearch: {
    nodes: required({
      variable: 'MLOG_ELASTICSEARCH_URL',
      doc: 'Elasticsearch node(s), comma separated',
      parse: nodeUrls,
      mustGive: 'the Elasticsearch node URL(s)',
      defaultNote: 'unset: `npm start` provisions a local single node',
    }),
    apiKey: optional({ variable: 'MLOG_ELASTICSEARCH_API_KEY', doc: 'API key of a secured cluster', parse: anyText }),
    username: optional({ variable: 'MLOG_ELASTICSEARCH_USERNAME', doc: 'user name of the basic credentials of a secured cluster (set with `MLOG_ELASTICSEARCH_PASSWORD`, or neither)', parse: anyText }),
    password: optional({ variable: 'MLOG_ELASTICSEARCH_PASSWORD', doc: 'password of the basic credentials of a secured cluster (set with `MLOG_ELASTICSEARCH_USERNAME`, or neither)', parse: anyText }),
    caPath: optional({ variable: 'MLOG_ELASTICSEARCH_CA', doc: "PEM CA of the cluster's HTTPS certificate", parse: anyText }),
  },
  indices: {
    eventShards: withDefault({
      variable: 'MLOG_EVENT_SHARDS',
      doc: 'primary shards of each new event index `mlog-<is>-<yyyy.MM>` (existing indices keep theirs): [docs/deployment.md](docs/deployment.md)',
      parse: shardCount,
      default: '1',
    }),
    eventReplicas: optional({
      variable: 'MLOG_EVENT_REPLICAS',
      doc: 'replicas of every event shard, applied at start to the template and to the event indices that exist',
      parse: replicaCount,
      defaultNote: 'unset: 0 on one node, 1 once there are two (`auto_expand_replicas` 0-1)',
    }),
    personalDataShards: withDefault({ variable: 'MLOG_PERSONAL_DATA_SHARDS', doc: 'primary shards of each new `personaldata-<yyyy.MM>` index', parse: shardCount, default: '1' }),
    personalDataReplicas: optional({
      variable: 'MLOG_PERSONAL_DATA_REPLICAS',
      doc: 'replicas of every `personaldata-*` shard, applied at start like `MLOG_EVENT_REPLICAS`',
      parse: replicaCount,
      defaultNote: 'unset: 0 on one node, 1 once there are two',
    }),
    internalShards: withDefault({
      variable: 'MLOG_INTERNAL_SHARDS',
      doc: "primary shards of each new index of MLog's own (`mlog_*`: registry, idempotency keys, leases, audit, rejections, console)",
      parse: shardCount,
      default: '1',
    }),
    internalReplicas: optional({
      variable: 'MLOG_INTERNAL_REPLICAS',
      doc: "replicas of every shard of MLog's own `mlog_*` indices, applied at start like `MLOG_EVENT_REPLICAS`",
      parse: replicaCount,
      defaultNote: 'unset: 0 on one node, 1 once there are two',
    }),
    writeActiveShards: withDefault({
      variable: 'MLOG_WRITE_ACTIVE_SHARDS',
      doc: "copies of each shard (primary included) that must be active before a registration's bulk is written (`wait_for_active_shards`), or `all`; a write that cannot get them by the write deadline answers 503",
      parse: activeShardCount,
      default: '1',
    }),
  },
  publicApi: {
    host: withDefault({ variable: 'MLOG_HOST', doc: 'address the public API binds to', parse: anyText, default: '0.0.0.0' }),
    port: withDefault({ variable: 'MLOG_PORT', doc: 'public API port (HTTPS, client certificates required)', parse: portNumber, default: '8443' }),
    tlsCertPath: required({ variable: 'MLOG_TLS_CERT', doc: 'PEM server certificate', parse: anyText, mustGive: 'the path of the PEM server certificate', defaultNote: '`npm start`: a development certificate' }),
    tlsKeyPath: required({ variable: 'MLOG_TLS_KEY', doc: 'PEM server key', parse: anyText, mustGive: 'the path of the PEM server key', defaultNote: '`npm start`: the development certificate\'s key' }),
    tlsClientCaPath: required({
      variable: 'MLOG_TLS_CLIENT_CA',
      doc: 'PEM file of the CAs whose client certificates are accepted',
      parse: anyText,
      mustGive: 'the path of the PEM CA(s) that issue client certificates',
      defaultNote: '`npm start`: the development CA',
    }),
    tlsHandshakeTimeoutSeconds: withDefault({
      variable: 'MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS',
      doc: 'a connection whose TLS handshake is not finished by then is closed',
      parse: wholeCount,
      default: '10',
    }),
  },
  proxies: {
    trusted: optional({
      variable: 'MLOG_TRUSTED_PROXIES',
      doc: 'IPs or CIDR ranges, comma separated, of reverse proxies that end TLS in front of MLog: a call from one of them is identified by the client certificate it forwards in `MLOG_CLIENT_CERT_HEADER`, from the client address it adds to `X-Forwarded-For`: [docs/deployment.md](docs/deployment.md#behind-a-reverse-proxy-that-ends-tls)',
      parse: addressList,
      defaultNote: 'unset: no proxy is trusted, and such headers are ignored',
    }),
    certificateHeader: withDefault({
      variable: 'MLOG_CLIENT_CERT_HEADER',
      doc: "the header in which a trusted proxy forwards the client certificate: URL-encoded PEM (nginx's `$ssl_client_escaped_cert`), PEM, or base64 DER",
      parse: headerName,
      default: 'X-SSL-Client-Cert',
    }),
  },
  development: {
    identity: optional({
      variable: 'MLOG_DEV_IDENTITY',
      doc: 'for local development only, with `MLOG_DEV_HTTP_PORT`: the code of the IS that every call on the development listener is, without a certificate: [docs/api.md](docs/api.md#a-development-identity-over-plain-http)',
      parse: anyText,
      defaultNote: 'unset: off',
    }),
    httpPort: optional({
      variable: 'MLOG_DEV_HTTP_PORT',
      doc: 'for local development only, with `MLOG_DEV_IDENTITY`: a plain-HTTP listener on 127.0.0.1 that serves the public API as that IS; a warning at start, and the `MLog-Development-Identity` header on every answer',
      parse: portNumber,
      defaultNote: 'unset: off',
    }),
  },
  adminApi: {
    host: withDefault({ variable: 'MLOG_ADMIN_HOST', doc: 'address the administration listener binds to', parse: anyText, default: '127.0.0.1' }),
    port: withDefault({ variable: 'MLOG_ADMIN_PORT', doc: 'administration listener port', parse: portNumber, default: '8081' }),
    token: optional({
      variable: 'MLOG_ADMIN_TOKEN',
      doc: 'bearer token of the administration API (16+ characters)',
      parse: atLeastCharacters(16),
      defaultNote: 'unset: the admin API refuses everything (`npm start` makes one)',
    }),
    tlsCertPath: optional({
      variable: 'MLOG_ADMIN_TLS_CERT',
      doc: 'PEM server certificate of the administration listener (with `MLOG_ADMIN_TLS_KEY`): it then serves HTTPS and the console cookie is `Secure`',
      parse: anyText,
      defaultNote: 'unset: plain HTTP (a warning at start when bound to a non-loopback address)',
    }),
    tlsKeyPath: optional({ variable: 'MLOG_ADMIN_TLS_KEY', doc: 'PEM key of `MLOG_ADMIN_TLS_CERT`', parse: anyText }),
  },
  console: {
    sessionIdleSeconds: withDefault({ variable: 'MLOG_CONSOLE_SESSION_IDLE_SECONDS', doc: 'a console session not used for this long ends', parse: wholeCount, default: '1800' }),
    sessionMaxSeconds: withDefault({ variable: 'MLOG_CONSOLE_SESSION_MAX_SECONDS', doc: 'a console session ends this long after sign-in, used or not', parse: wholeCount, default: '43200' }),
    lockoutSeconds: withDefault({
      variable: 'MLOG_CONSOLE_LOCKOUT_SECONDS',
      doc: 'after 5 failed console sign-ins within 15 minutes, the account and the source address are each locked for this long',
      parse: wholeCount,
      default: '900',
    }),
  },
  oidc: {
    issuer: optional({
      variable: 'MLOG_OIDC_ISSUER',
      doc: 'issuer URL of the OpenID Connect provider the console signs in through (with `MLOG_OIDC_CLIENT_ID`, `MLOG_OIDC_CLIENT_SECRET`, `MLOG_OIDC_REDIRECT_URL`): [docs/console.md](docs/console.md)',
      parse: urlOf(['https:']),
      defaultNote: 'unset: local accounts only',
    }),
    clientId: optional({ variable: 'MLOG_OIDC_CLIENT_ID', doc: "MLog's client id at the OpenID Connect provider", parse: anyText }),
    clientSecret: optional({ variable: 'MLOG_OIDC_CLIENT_SECRET', doc: "MLog's client secret at the OpenID Connect provider (16+ characters); also seals the sign-in's state cookie", parse: atLeastCharacters(16) }),
    redirectUrl: optional({
      variable: 'MLOG_OIDC_REDIRECT_URL',
      doc: 'the callback address registered at the provider: the admin listener\'s public address followed by `/console/api/oidc/callback`',
      parse: urlOf(['http:', 'https:']),
    }),
    roleClaim: withDefault({
      variable: 'MLOG_OIDC_ROLE_CLAIM',
      doc: 'claim of the ID token (or of userinfo) that gives the role: `viewer`, `auditor` or `administrator`; anything else refuses the sign-in',
      parse: anyText,
      default: 'mlog_role',
    }),
    caPath: optional({ variable: 'MLOG_OIDC_CA', doc: "PEM CA(s) of the provider's HTTPS certificate, when not a public one", parse: anyText, defaultNote: "unset: Node's public CAs" }),
  },
  syslog: {
    tlsPort: optional({
      variable: 'MLOG_SYSLOG_TLS_PORT',
      doc: 'port of syslog over TLS (RFC 5425, conventionally 6514), client certificates required, on `MLOG_HOST`: [docs/syslog.md](docs/syslog.md)',
      parse: portNumber,
      defaultNote: 'unset: off (`npm start`: 6514)',
    }),
    relpPort: optional({
      variable: 'MLOG_RELP_PORT',
      doc: 'port of RELP over TLS (rsyslog `omrelp`), client certificates required: each message acknowledged only once durably stored',
      parse: portNumber,
      defaultNote: 'unset: off',
    }),
    tcpPort: optional({
      variable: 'MLOG_SYSLOG_TCP_PORT',
      doc: 'port of syslog over plain TCP, accepted only from an address in a system\'s `syslog_addresses` (a warning is logged when on)',
      parse: portNumber,
      defaultNote: 'unset: off',
    }),
    maxMessageBytes: withDefault({
      variable: 'MLOG_SYSLOG_MAX_MESSAGE_BYTES',
      doc: 'largest syslog message (or RELP frame data); a longer one is refused and skipped, the connection goes on',
      parse: byteCount,
      default: '65536',
    }),
  },
  workers: withDefault({
    variable: 'MLOG_WORKERS',
    doc: 'processes serving the listeners together (node:cluster, supervised by a primary; `1` = one process): [docs/workers.md](docs/workers.md)',
    parse: wholeCount,
    default: '1',
  }),
  logLevel: withDefault({ variable: 'MLOG_LOG_LEVEL', doc: '`error`, `warn`, `info` or `debug`', parse: oneOf(['error', 'warn', 'info', 'debug'] as const), default: 'info' }),
  registryCacheSeconds: withDefault({ variable: 'MLOG_REGISTRY_CACHE_SECONDS', doc: 'how long an instance caches the IS registry', parse: seconds, default: '5' }),
  limits: {
    maxInFlight: withDefault({ variable: 'MLOG_MAX_IN_FLIGHT', doc: 'calls one instance handles at once; past it, 503 with `Retry-After`', parse: wholeCount, default: '512' }),
    maxInFlightPerSystem: withDefault({ variable: 'MLOG_MAX_IN_FLIGHT_PER_IS', doc: 'calls of one IS handled at once; past it, 429 with `Retry-After`', parse: wholeCount, default: '128' }),
    maxRegisterBytes: withDefault({
      variable: 'MLOG_MAX_REGISTER_BYTES',
      doc: 'bytes of `/register` bodies being registered at once by the instance, counted from `Content-Length` before the body is read; past it, 503: [docs/idempotency-and-limits.md](docs/idempotency-and-limits.md)',
      parse: byteCount,
      default: String(8 * 1024 * 1024),
    }),
    maxRegisterBytesPerSystem: withDefault({
      variable: 'MLOG_MAX_REGISTER_BYTES_PER_IS',
      doc: 'bytes of `/register` bodies of one IS being registered at once, counted the same way; past it, 429 (three full bodies: about 17,500 of the smallest events, within the 20,000 one IS may have waiting, so a flooding IS is refused before its bodies are read)',
      parse: byteCount,
      default: String(768 * 1024),
    }),
    registerDirect: withDefault({
      variable: 'MLOG_REGISTER_DIRECT',
      doc: '`on` answers `POST /register` on node:https directly, before Express, with the same checks, limits, answers and records (less CPU per call); `off` routes it through Express like every other call',
      parse: oneOf(['on', 'off'] as const),
      default: 'on',
    }),
    queryDirect: withDefault({
      variable: 'MLOG_QUERY_DIRECT',
      doc: '`on` answers `GET /query` and `GET /query/{uid}` on node:https directly, before Express, with the same checks, limits, answers and records (less CPU per query); `off` routes them through Express like every other call',
      parse: oneOf(['on', 'off'] as const),
      default: 'on',
    }),
    writeDeadlineSeconds: withDefault({
      variable: 'MLOG_WRITE_DEADLINE_SECONDS',
      doc: 'how long a call may wait for Elasticsearch, retries included, before 503',
      parse: wholeCount,
      default: '10',
    }),
    shutdownGraceSeconds: withDefault({ variable: 'MLOG_SHUTDOWN_GRACE_SECONDS', doc: 'how long calls in flight may take to finish after SIGTERM', parse: wholeCount, default: '10' }),
  },
  groupCommit: {
    waitMs: withDefault({ variable: 'MLOG_GROUP_COMMIT_WAIT_MS', doc: 'longest a registration waits for others to share its `_bulk` (0 = next tick)', parse: milliseconds, default: '1' }),
    maxOperations: withDefault({ variable: 'MLOG_GROUP_COMMIT_MAX_OPERATIONS', doc: 'a shared bulk leaves once it holds this many operations…', parse: wholeCount, default: '500' }),
    maxBytes: withDefault({ variable: 'MLOG_GROUP_COMMIT_MAX_BYTES', doc: '… or this many bytes of NDJSON', parse: wholeCount, default: String(5 * 1024 * 1024) }),
    maxInFlight: withDefault({ variable: 'MLOG_GROUP_COMMIT_MAX_IN_FLIGHT', doc: 'shared bulks on their way at once', parse: wholeCount, default: '8' }),
    maxWaitingEventsPerSystem: withDefault({
      variable: 'MLOG_GROUP_COMMIT_MAX_WAITING_EVENTS_PER_IS',
      doc: 'events of one IS waiting for a shared bulk; past it, 429: [docs/group-commit.md](docs/group-commit.md)',
      parse: wholeCount,
      default: '20000',
    }),
    maxWaitingBytesPerSystem: withDefault({
      variable: 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES_PER_IS',
      doc: 'bytes of NDJSON of one IS waiting for a shared bulk; past it, 429',
      parse: byteCount,
      default: String(16 * 1024 * 1024),
    }),
    maxWaitingBytes: withDefault({
      variable: 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES',
      doc: 'bytes of NDJSON of all systems waiting for a shared bulk; past it, 503',
      parse: byteCount,
      default: String(64 * 1024 * 1024),
    }),
  },
  retention: {
    schedule: withDefault({ variable: 'MLOG_RETENTION_SCHEDULE', doc: 'cron expression (UTC) of the retention job, or `off`', parse: cronOrOff, default: '15 2 * * *' }),
    personalDataMonths: withDefault({ variable: 'MLOG_PERSONALDATA_RETENTION_MONTHS', doc: 'months the shared `personaldata-*` indices are kept', parse: months, default: '120' }),
    rejectionsMonths: withDefault({ variable: 'MLOG_REJECTIONS_RETENTION_MONTHS', doc: 'months the `mlog_rejections-*` indices are kept', parse: months, default: '12' }),
  },
  idempotency: {
    purgeSchedule: withDefault({
      variable: 'MLOG_IDEMPOTENCY_PURGE_SCHEDULE',
      doc: 'cron expression (UTC) of the job that deletes `Idempotency-Key` records older than 24 hours, or `off`',
      parse: cronOrOff,
      default: '41 * * * *',
    }),
  },
  alerts: {
    schedule: withDefault({
      variable: 'MLOG_ALERTS_SCHEDULE',
      doc: 'cron expression (UTC; six fields give seconds) of the tick that evaluates the alert rules whose own schedule is due, or `off`',
      parse: cronOrOff,
      default: '* * * * *',
    }),
    overlapSeconds: withDefault({
      variable: 'MLOG_ALERTS_OVERLAP_SECONDS',
      doc: 'each evaluation reaches this far back before the end of the previous one (on `@received`), so an event that became searchable late is still seen',
      parse: seconds,
      default: '120',
    }),
  },
  notifications: {
    retryMinutes: withDefault({
      variable: 'MLOG_ALERT_RETRY_MINUTES',
      doc: 'an alert notification that cannot be delivered is retried, with exponential backoff, for this long after it was queued, then given up: [docs/alerts.md](docs/alerts.md#channels)',
      parse: positiveNumber('minutes'),
      default: '10',
    }),
    firstRetryDelaySeconds: withDefault({
      variable: 'MLOG_ALERT_RETRY_FIRST_DELAY_SECONDS',
      doc: 'the wait after the first failed attempt at a notification; it doubles after each failure (at most 5 minutes), with jitter',
      parse: positiveNumber('seconds'),
      default: '5',
    }),
    attemptTimeoutSeconds: withDefault({
      variable: 'MLOG_ALERT_DELIVERY_TIMEOUT_SECONDS',
      doc: 'one attempt at a webhook or an e-mail that has not succeeded by then has failed',
      parse: positiveNumber('seconds'),
      default: '10',
    }),
    consoleUrl: optional({
      variable: 'MLOG_CONSOLE_URL',
      doc: "the console's address as people open it (e.g. `https://mlog.example.gov:8081/console/`): alert notifications then link to the rule",
      parse: urlOf(['http:', 'https:']),
      defaultNote: 'unset: notifications carry no link',
    }),
  },
  smtp: {
    url: optional({
      variable: 'MLOG_SMTP_URL',
      doc: 'SMTP server of the alerts\' e-mail channel, `smtp://` or `smtps://`, credentials allowed (`smtps://user:password@host:465`); never logged',
      parse: smtpUrl,
      defaultNote: 'unset: e-mail channels are refused',
    }),
    from: optional({ variable: 'MLOG_SMTP_FROM', doc: 'the From address of alert e-mail (with `MLOG_SMTP_URL`)', parse: anyText }),
  },
  evidence: {
    mode: withDefault({
      variable: 'MLOG_EVIDENCE',
      doc: 'the evidence log ([docs/evidence.md](docs/evidence.md)): `on` gives every stored event `@hash`, `@log` and `@position`, signs checkpoints and receipts; `off` writes none of them (for measuring its cost)',
      parse: oneOf(['on', 'off'] as const),
      default: 'on',
    }),
    checkpointSeconds: withDefault({
      variable: 'MLOG_CHECKPOINT_SECONDS',
      doc: 'seconds between two signed checkpoints of this process\'s evidence log (a final one is signed at shutdown)',
      parse: positiveNumber('seconds'),
      default: '60',
    }),
    sealAfterSeconds: withDefault({
      variable: 'MLOG_EVIDENCE_SEAL_AFTER_SECONDS',
      doc: "seconds after which the evidence log of a process that stopped renewing its lease (a crash, SIGKILL) is sealed by another instance: its missing leaves rebuilt from the stored events and a final checkpoint signed ([docs/evidence.md](docs/evidence.md#a-process-that-crashed-sealing-its-log)); each process renews its lease every third of it",
      parse: positiveNumber('seconds'),
      default: '300',
    }),
    signingKeyPath: optional({
      variable: 'MLOG_SIGNING_KEY',
      doc: "PEM (PKCS#8) private key, Ed25519 or P-256, that signs MLog's checkpoints, tombstones and receipts",
      parse: anyText,
      defaultNote: 'unset: `npm start` makes one in its data directory; otherwise a key that ends with the process (a warning says so)',
    }),
    webhookUrl: optional({
      variable: 'MLOG_CHECKPOINT_WEBHOOK_URL',
      doc: 'each new entry of the evidence chain (checkpoint or tombstone) is POSTed here as JSON, retried with backoff, so an outside authority keeps copies',
      parse: urlOf(['http:', 'https:']),
      defaultNote: 'unset: entries are only stored (and `mlog checkpoints export` reads them)',
    }),
  },
};

/** Everything MLog reads from its environment, checked once at start (see CONFIGURATION). */
export type MLogConfig = ConfigOf<typeof CONFIGURATION>;

/** The Elasticsearch part of the configuration, also used alone by the command-line tool (`fallbackUrl` when MLOG_ELASTICSEARCH_URL is unset). */
export function loadElasticsearchConfig(env: Env = process.env, fallbackUrl?: string): MLogConfig['elasticsearch'] {
  const username = text(env, 'MLOG_ELASTICSEARCH_USERNAME');
  const password = text(env, 'MLOG_ELASTICSEARCH_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigurationError('MLOG_ELASTICSEARCH_USERNAME and MLOG_ELASTICSEARCH_PASSWORD must be set together.');
  }
  const url = text(env, 'MLOG_ELASTICSEARCH_URL') ?? fallbackUrl;
  return loadDeclared({ ...env, MLOG_ELASTICSEARCH_URL: url }, CONFIGURATION.elasticsearch);
}

/** The retention part of the configuration, also used alone by `mlog retention`. */
export function loadRetentionConfig(env: Env = process.env): MLogConfig['retention'] {
  return loadDeclared(env, CONFIGURATION.retention);
}

/** Reads and checks the configuration; throws a ConfigurationError whose message is one line naming the variable. */
export function loadConfig(env: Env = process.env): MLogConfig {
  const { elasticsearch: _elasticsearch, ...rest } = CONFIGURATION;
  if ((text(env, 'MLOG_ADMIN_TLS_CERT') === undefined) !== (text(env, 'MLOG_ADMIN_TLS_KEY') === undefined)) {
    throw new ConfigurationError('MLOG_ADMIN_TLS_CERT and MLOG_ADMIN_TLS_KEY must be set together.');
  }
  if ((text(env, 'MLOG_DEV_IDENTITY') === undefined) !== (text(env, 'MLOG_DEV_HTTP_PORT') === undefined)) {
    throw new ConfigurationError('MLOG_DEV_IDENTITY and MLOG_DEV_HTTP_PORT must be set together (or neither: the development listener is off).');
  }
  const oidcSet = ['MLOG_OIDC_ISSUER', 'MLOG_OIDC_CLIENT_ID', 'MLOG_OIDC_CLIENT_SECRET', 'MLOG_OIDC_REDIRECT_URL'].filter((variable) => text(env, variable) !== undefined);
  if (oidcSet.length > 0 && oidcSet.length < 4) {
    throw new ConfigurationError('MLOG_OIDC_ISSUER, MLOG_OIDC_CLIENT_ID, MLOG_OIDC_CLIENT_SECRET and MLOG_OIDC_REDIRECT_URL must be set together (or none of them).');
  }
  return { elasticsearch: loadElasticsearchConfig(env), ...loadDeclared(env, rest) };
}

/** The README's configuration table, made from CONFIGURATION (written by `npm run docs:config`). */
export function configurationTable(): string {
  return markdownTable(settingsOf(CONFIGURATION));
}

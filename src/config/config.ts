import { ConfigurationError } from '../errors/mlog-error.js';

/** Everything MLog reads from its environment, checked once at start. */
export interface MLogConfig {
  elasticsearch: {
    /** MLOG_ELASTICSEARCH_URL: node URLs, comma separated. */
    nodes: string[];
    /** MLOG_ELASTICSEARCH_API_KEY: API key of a secured cluster. */
    apiKey?: string;
    /** MLOG_ELASTICSEARCH_USERNAME / MLOG_ELASTICSEARCH_PASSWORD: basic credentials of a secured cluster. */
    username?: string;
    password?: string;
    /** MLOG_ELASTICSEARCH_CA: path of the PEM CA that signed the cluster's HTTP certificate. */
    caPath?: string;
  };
  publicApi: {
    /** MLOG_HOST: address the public API binds to. */
    host: string;
    /** MLOG_PORT: public API port (HTTPS with client certificates). */
    port: number;
    /** MLOG_TLS_CERT / MLOG_TLS_KEY: PEM server certificate and key. */
    tlsCertPath: string;
    tlsKeyPath: string;
    /** MLOG_TLS_CLIENT_CA: PEM file of the CAs whose client certificates are accepted. */
    tlsClientCaPath: string;
    /** MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS: a connection whose TLS handshake is not done by then is closed. */
    tlsHandshakeTimeoutSeconds: number;
  };
  adminApi: {
    /** MLOG_ADMIN_HOST: address the administration listener binds to. */
    host: string;
    /** MLOG_ADMIN_PORT: administration listener port. */
    port: number;
    /** MLOG_ADMIN_TOKEN: bearer token of the admin API; unset means the admin API refuses everything. */
    token?: string;
  };
  /** MLOG_WORKERS: processes that serve the listeners together (node:cluster); 1 = one process, no cluster. */
  workers: number;
  /** MLOG_LOG_LEVEL: winston level (error, warn, info, debug). */
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** MLOG_REGISTRY_CACHE_SECONDS: how long an instance keeps the IS registry before reading it again. */
  registryCacheSeconds: number;
  limits: {
    /** MLOG_MAX_IN_FLIGHT: calls being handled at once by this instance; past it, 503 with Retry-After. */
    maxInFlight: number;
    /** MLOG_MAX_IN_FLIGHT_PER_IS: calls of one IS being handled at once; past it, 429 with Retry-After. */
    maxInFlightPerSystem: number;
    /** MLOG_MAX_REGISTER_BYTES: bytes of /register bodies being registered at once by this instance; past it, 503 with Retry-After. */
    maxRegisterBytes: number;
    /**
     * MLOG_MAX_REGISTER_BYTES_PER_IS: bytes of /register bodies of one IS being registered at once; past it, 429 with Retry-After.
     * The default (three full bodies) holds at most about 17,500 of the smallest events, within the group commit's 20,000
     * waiting events per IS, so a flooding IS is refused before its bodies are read rather than after they are parsed.
     */
    maxRegisterBytesPerSystem: number;
    /** MLOG_WRITE_DEADLINE_SECONDS: how long a registration may wait for Elasticsearch, retries included, before 503. */
    writeDeadlineSeconds: number;
    /** MLOG_SHUTDOWN_GRACE_SECONDS: how long calls in flight may take to finish after SIGTERM. */
    shutdownGraceSeconds: number;
  };
  groupCommit: {
    /** MLOG_GROUP_COMMIT_WAIT_MS: longest a registration waits for others to share its bulk (0 = next tick). */
    waitMs: number;
    /** MLOG_GROUP_COMMIT_MAX_OPERATIONS: a shared bulk leaves once it holds this many operations. */
    maxOperations: number;
    /** MLOG_GROUP_COMMIT_MAX_BYTES: … or this many bytes of NDJSON. */
    maxBytes: number;
    /** MLOG_GROUP_COMMIT_MAX_IN_FLIGHT: shared bulks on their way at once. */
    maxInFlight: number;
    /** MLOG_GROUP_COMMIT_MAX_WAITING_EVENTS_PER_IS: events of one IS waiting for a bulk; past it, 429. */
    maxWaitingEventsPerSystem: number;
    /** MLOG_GROUP_COMMIT_MAX_WAITING_BYTES_PER_IS: bytes of NDJSON of one IS waiting for a bulk; past it, 429. */
    maxWaitingBytesPerSystem: number;
    /** MLOG_GROUP_COMMIT_MAX_WAITING_BYTES: bytes of NDJSON of all systems waiting for a bulk; past it, 503. */
    maxWaitingBytes: number;
  };
  retention: {
    /** MLOG_RETENTION_SCHEDULE: cron expression (UTC) of the retention job; "off" disables it. */
    schedule: string | undefined;
    /** MLOG_PERSONALDATA_RETENTION_MONTHS: months the shared personaldata-* indices are kept. */
    personalDataMonths: number;
    /** MLOG_REJECTIONS_RETENTION_MONTHS: months the mlog_rejections-* indices are kept. */
    rejectionsMonths: number;
  };
  idempotency: {
    /** MLOG_IDEMPOTENCY_PURGE_SCHEDULE: cron expression (UTC) of the job that deletes expired Idempotency-Key records; "off" disables it. */
    purgeSchedule: string | undefined;
  };
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string, meaning: string): string {
  const value = text(env, name);
  if (value === undefined) throw new ConfigurationError(`${name} is not set: it must give ${meaning}.`);
  return value;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigurationError(`${name}="${raw}" is not a port number (0 to 65535).`);
  }
  return Number(raw);
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(`${name}="${raw}" is not a number of seconds (0 or more).`);
  }
  return value;
}

function milliseconds(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw)) throw new ConfigurationError(`${name}="${raw}" is not a whole number of milliseconds (0 or more).`);
  return Number(raw);
}

/** A size in bytes: a whole number from 1 to 2^40. */
function byteCount(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,13}$/.test(raw) || Number(raw) < 1 || Number(raw) > 2 ** 40) {
    throw new ConfigurationError(`${name}="${raw}" is not a number of bytes from 1 to ${2 ** 40}.`);
  }
  return Number(raw);
}

function count(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) {
    throw new ConfigurationError(`${name}="${raw}" is not a whole number of 1 or more.`);
  }
  return Number(raw);
}

function months(env: Env, name: string, fallback: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1) {
    throw new ConfigurationError(`${name}="${raw}" is not a number of months (1 or more).`);
  }
  return Number(raw);
}

/** A cron expression of 5 or 6 fields, or "off". Checked again by node-cron when the job is scheduled. */
function schedule(env: Env, name: string, fallback: string): string | undefined {
  const raw = text(env, name) ?? fallback;
  if (raw === 'off') return undefined;
  const fields = raw.split(/\s+/).length;
  if (fields < 5 || fields > 6 || !/^[\d*/,\-\sA-Za-z?]+$/.test(raw)) {
    throw new ConfigurationError(`${name}="${raw}" is not a cron expression (for example "15 2 * * *") nor "off".`);
  }
  return raw;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigurationError(`${name}="${raw}" is not one of ${allowed.join(', ')}.`);
  }
  return raw as T;
}

function elasticsearchNodes(raw: string): string[] {
  const nodes = raw.split(',').map((node) => node.trim()).filter((node) => node !== '');
  for (const node of nodes) {
    let url: URL;
    try {
      url = new URL(node);
    } catch {
      throw new ConfigurationError(`MLOG_ELASTICSEARCH_URL contains "${node}", which is not a URL (for example http://127.0.0.1:9200).`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigurationError(`MLOG_ELASTICSEARCH_URL contains "${node}": only http and https URLs are accepted.`);
    }
  }
  if (nodes.length === 0) throw new ConfigurationError('MLOG_ELASTICSEARCH_URL is empty: give at least one node URL.');
  return nodes;
}

/** The Elasticsearch part of the configuration, also used alone by the command-line tool. */
export function loadElasticsearchConfig(env: Env = process.env, fallbackUrl?: string): MLogConfig['elasticsearch'] {
  const username = text(env, 'MLOG_ELASTICSEARCH_USERNAME');
  const password = text(env, 'MLOG_ELASTICSEARCH_PASSWORD');
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigurationError('MLOG_ELASTICSEARCH_USERNAME and MLOG_ELASTICSEARCH_PASSWORD must be set together.');
  }
  const url = text(env, 'MLOG_ELASTICSEARCH_URL') ?? fallbackUrl;
  if (url === undefined) throw new ConfigurationError('MLOG_ELASTICSEARCH_URL is not set: it must give the Elasticsearch node URL(s).');
  const config: MLogConfig['elasticsearch'] = { nodes: elasticsearchNodes(url) };
  const apiKey = text(env, 'MLOG_ELASTICSEARCH_API_KEY');
  if (apiKey !== undefined) config.apiKey = apiKey;
  if (username !== undefined && password !== undefined) {
    config.username = username;
    config.password = password;
  }
  const caPath = text(env, 'MLOG_ELASTICSEARCH_CA');
  if (caPath !== undefined) config.caPath = caPath;
  return config;
}

/** The retention part of the configuration, also used alone by `mlog retention`. */
export function loadRetentionConfig(env: Env = process.env): MLogConfig['retention'] {
  return {
    schedule: schedule(env, 'MLOG_RETENTION_SCHEDULE', '15 2 * * *'),
    personalDataMonths: months(env, 'MLOG_PERSONALDATA_RETENTION_MONTHS', 120),
    rejectionsMonths: months(env, 'MLOG_REJECTIONS_RETENTION_MONTHS', 12),
  };
}

/** Reads and checks the configuration; throws a ConfigurationError whose message is one line naming the variable. */
export function loadConfig(env: Env = process.env): MLogConfig {
  const token = text(env, 'MLOG_ADMIN_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new ConfigurationError('MLOG_ADMIN_TOKEN is shorter than 16 characters; use a long random token.');
  }
  const config: MLogConfig = {
    elasticsearch: loadElasticsearchConfig(env),
    publicApi: {
      host: text(env, 'MLOG_HOST') ?? '0.0.0.0',
      port: port(env, 'MLOG_PORT', 8443),
      tlsCertPath: required(env, 'MLOG_TLS_CERT', 'the path of the PEM server certificate'),
      tlsKeyPath: required(env, 'MLOG_TLS_KEY', 'the path of the PEM server key'),
      tlsClientCaPath: required(env, 'MLOG_TLS_CLIENT_CA', 'the path of the PEM CA(s) that issue client certificates'),
      tlsHandshakeTimeoutSeconds: count(env, 'MLOG_TLS_HANDSHAKE_TIMEOUT_SECONDS', 10),
    },
    adminApi: {
      host: text(env, 'MLOG_ADMIN_HOST') ?? '127.0.0.1',
      port: port(env, 'MLOG_ADMIN_PORT', 8081),
    },
    workers: count(env, 'MLOG_WORKERS', 1),
    logLevel: oneOf(env, 'MLOG_LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    registryCacheSeconds: positiveNumber(env, 'MLOG_REGISTRY_CACHE_SECONDS', 5),
    limits: {
      maxInFlight: count(env, 'MLOG_MAX_IN_FLIGHT', 512),
      maxInFlightPerSystem: count(env, 'MLOG_MAX_IN_FLIGHT_PER_IS', 128),
      maxRegisterBytes: byteCount(env, 'MLOG_MAX_REGISTER_BYTES', 8 * 1024 * 1024),
      maxRegisterBytesPerSystem: byteCount(env, 'MLOG_MAX_REGISTER_BYTES_PER_IS', 768 * 1024),
      writeDeadlineSeconds: count(env, 'MLOG_WRITE_DEADLINE_SECONDS', 10),
      shutdownGraceSeconds: count(env, 'MLOG_SHUTDOWN_GRACE_SECONDS', 10),
    },
    groupCommit: {
      waitMs: milliseconds(env, 'MLOG_GROUP_COMMIT_WAIT_MS', 1),
      maxOperations: count(env, 'MLOG_GROUP_COMMIT_MAX_OPERATIONS', 500),
      maxBytes: count(env, 'MLOG_GROUP_COMMIT_MAX_BYTES', 5 * 1024 * 1024),
      maxInFlight: count(env, 'MLOG_GROUP_COMMIT_MAX_IN_FLIGHT', 4),
      maxWaitingEventsPerSystem: count(env, 'MLOG_GROUP_COMMIT_MAX_WAITING_EVENTS_PER_IS', 20_000),
      maxWaitingBytesPerSystem: byteCount(env, 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES_PER_IS', 16 * 1024 * 1024),
      maxWaitingBytes: byteCount(env, 'MLOG_GROUP_COMMIT_MAX_WAITING_BYTES', 64 * 1024 * 1024),
    },
    retention: loadRetentionConfig(env),
    idempotency: {
      purgeSchedule: schedule(env, 'MLOG_IDEMPOTENCY_PURGE_SCHEDULE', '41 * * * *'),
    },
  };
  if (token !== undefined) config.adminApi.token = token;
  return config;
}

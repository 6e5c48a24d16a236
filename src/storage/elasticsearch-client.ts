import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { MLogConfig } from '../config/config.js';

export type ElasticsearchClient = Client;

/**
 * The one Elasticsearch client of a process, built from MLog's configuration. `requestTimeoutMs`
 * bounds every request that does not set its own (the service passes its write deadline, so that a
 * slow or paused cluster turns into 503 answers instead of calls that hang).
 */
export function createElasticsearchClient(config: MLogConfig['elasticsearch'], settings: { requestTimeoutMs?: number } = {}): Client {
  const options: ClientOptions = {
    nodes: config.nodes,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    maxRetries: 0,
    compression: false,
  };
  if (config.apiKey !== undefined) options.auth = { apiKey: config.apiKey };
  else if (config.username !== undefined && config.password !== undefined) {
    options.auth = { username: config.username, password: config.password };
  }
  if (config.caPath !== undefined) options.tls = { ca: readFileSync(config.caPath) };
  return new Client(options);
}

import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import type { MLogConfig } from '../config/config.js';

export type ElasticsearchClient = Client;

/** The one Elasticsearch client of a process, built from MLog's configuration. */
export function createElasticsearchClient(config: MLogConfig['elasticsearch']): Client {
  const options: ClientOptions = {
    nodes: config.nodes,
    requestTimeout: 30_000,
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

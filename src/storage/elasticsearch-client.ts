import { readFileSync } from 'node:fs';
import { Client, SniffingTransport, type ClientOptions, type TransportRequestOptions, type TransportRequestParams } from '@elastic/elasticsearch';
import type { MLogConfig } from '../config/config.js';

export type ElasticsearchClient = Client;

/**
 * A transport whose every search asks for a whole answer (`allow_partial_search_results=false`).
 * Elasticsearch's default answers a search from the shards that could answer and reports the others
 * only in `_shards.failed`: a query over an index whose shard has no copy left would then be answered
 * 200 with too few events and a too-low `record-count`, and an alert rule would count too few.
 * With this, such a search fails (503, "Search rejected due to missing shards"), and MLog answers
 * 503 with Retry-After like any other unavailable storage. Points in time already refuse missing
 * shards by default; `_count` and `_msearch` do not take the parameter, so their callers check
 * `_shards` or set it per search.
 */
class WholeAnswerTransport extends SniffingTransport {
  override request(params: TransportRequestParams, options?: TransportRequestOptions): Promise<any> {
    if (params.meta?.name === 'search' && typeof params.querystring !== 'string') {
      const querystring = { allow_partial_search_results: false, ...params.querystring };
      return super.request({ ...params, querystring }, options);
    }
    return super.request(params, options);
  }
}

/**
 * The one Elasticsearch client of a process, built from MLog's configuration. `requestTimeoutMs`
 * bounds every request that does not set its own (the service passes its write deadline, so that a
 * slow or paused cluster turns into 503 answers instead of calls that hang). Its searches never
 * answer from only some of the shards (see WholeAnswerTransport).
 */
export function createElasticsearchClient(config: MLogConfig['elasticsearch'], settings: { requestTimeoutMs?: number } = {}): Client {
  const options: ClientOptions = {
    nodes: config.nodes,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    maxRetries: 0,
    compression: false,
    Transport: WholeAnswerTransport,
  };
  if (config.apiKey !== undefined) options.auth = { apiKey: config.apiKey };
  else if (config.username !== undefined && config.password !== undefined) {
    options.auth = { username: config.username, password: config.password };
  }
  if (config.caPath !== undefined) options.tls = { ca: readFileSync(config.caPath) };
  return new Client(options);
}

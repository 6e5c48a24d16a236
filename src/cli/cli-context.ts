import { Command } from 'commander';
import { createElasticsearchClient, type ElasticsearchClient as Client } from '../storage/elasticsearch-client.js';
import { loadElasticsearchConfig } from '../config/config.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { installIndexTemplates } from '../storage/template-installer.js';

/** Where the CLI finds Elasticsearch when MLOG_ELASTICSEARCH_URL is unset: the one `npm start` runs. */
export const LOCAL_ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** True when standard output is a terminal (progress bars are drawn only then). */
  interactive?: boolean;
}

/** What every command group gets: output, environment, and a way to reach Elasticsearch. */
export interface CliContext {
  output: Output;
  env: Record<string, string | undefined>;
  /** Runs `action` with a client on the configured cluster (templates installed), closing it after. */
  withElasticsearch<T>(action: (client: Client, logger: Logger) => Promise<T>): Promise<T>;
}

export function createCliContext(output: Output, env: Record<string, string | undefined>): CliContext {
  return {
    output,
    env,
    async withElasticsearch(action) {
      const client = createElasticsearchClient(loadElasticsearchConfig(env, LOCAL_ELASTICSEARCH_URL));
      const logger = createLogger('error', true);
      try {
        await installIndexTemplates(client, logger);
        return await action(client, logger);
      } finally {
        await client.close();
      }
    },
  };
}

export type CommandGroup = (program: Command, context: CliContext) => void;

import { Command } from 'commander';
import type { Services } from '../composition/index.js';
import type { EvidenceVerification } from '../evidence/evidence-verification.js';
import { CONFIGURATION, loadElasticsearchConfig, type MLogConfig } from '../config/config.js';
import { loadDeclared } from '../config/settings.js';
import { processPasswordInput, type PasswordInput } from './password-input.js';

/** Where the CLI finds Elasticsearch when MLOG_ELASTICSEARCH_URL is unset: the one `npm start` runs. */
export const LOCAL_ELASTICSEARCH_URL = 'http://127.0.0.1:9200';

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** True when standard output is a terminal (progress bars are drawn only then). */
  interactive?: boolean;
}

/** What `mlog retention` adds to a command's services: its settings, and the indices it is narrowed to. */
export interface RetentionScope {
  retention?: MLogConfig['retention'];
  retentionIndices?: readonly string[];
}

/** What every command group gets: output, environment, and MLog's services. */
export interface CliContext {
  output: Output;
  env: Record<string, string | undefined>;
  /** Where passwords are read from (standard input or a prompt with echo off). */
  passwords: PasswordInput;
  /** Runs `action` with the services on the configured cluster (templates installed), closing the connection after. */
  withServices<T>(action: (services: Services) => Promise<T>, scope?: RetentionScope): Promise<T>;
  /** Runs `action` with `mlog verify`'s run alone (its narrower composition: the evidence reader, the registry, the audit log), closing the connection after. */
  withVerification<T>(action: (verification: EvidenceVerification) => Promise<T>): Promise<T>;
}

export function createCliContext(output: Output, env: Record<string, string | undefined>, passwords: PasswordInput = processPasswordInput()): CliContext {
  return {
    output,
    env,
    passwords,
    // The compositions are loaded when a command runs, not when `mlog` starts: each loads many modules.
    async withServices(action, scope = {}) {
      const { signingKeyPath } = loadDeclared(env, CONFIGURATION.evidence);
      const { withCommandLineServices } = await import('../composition/index.js');
      return withCommandLineServices(
        { elasticsearch: loadElasticsearchConfig(env, LOCAL_ELASTICSEARCH_URL), smtp: loadDeclared(env, CONFIGURATION.smtp), ...(signingKeyPath === undefined ? {} : { signingKeyPath }), ...scope },
        action,
      );
    },
    async withVerification(action) {
      const { withEvidenceVerification } = await import('../composition/compose-verification.js');
      return withEvidenceVerification(loadElasticsearchConfig(env, LOCAL_ELASTICSEARCH_URL), action);
    },
  };
}

export type CommandGroup = (program: Command, context: CliContext) => void;

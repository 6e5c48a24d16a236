import cron from 'node-cron';
import { ConfigurationError } from '../errors/mlog-error.js';
import { parseAddressList, type AddressMatcher } from './address-list.js';

/** Reads the text of a variable that is set (trimmed, never empty) into its value; throws a ConfigurationError naming `variable`. */
export type Parser<T> = (raw: string, variable: string) => T;

/** required: must be set; default: unset means `default`, parsed like a set value; optional: unset leaves the key out. */
export type SettingKind = 'required' | 'default' | 'optional';

/** One environment variable: its name, one line saying what it means, how it is read, and its default. */
export interface Setting<T = unknown, K extends SettingKind = SettingKind> {
  readonly kind: K;
  readonly variable: string;
  /** What it means, one line (the README's "meaning" column). */
  readonly doc: string;
  readonly parse: Parser<T>;
  /** kind 'default': the value as one would write it in the environment. */
  readonly default?: string;
  /** kind 'required': what the variable must give, for the message when it is not set. */
  readonly mustGive?: string;
  /** The README's "default" column when it says more than the default (what `npm start` provides, what unset means). */
  readonly defaultNote?: string;
}

interface SettingFields<T> {
  variable: string;
  doc: string;
  parse: Parser<T>;
  defaultNote?: string;
}

export function required<T>(fields: SettingFields<T> & { mustGive: string }): Setting<T, 'required'> {
  return { kind: 'required', ...fields };
}

export function withDefault<T>(fields: SettingFields<T> & { default: string }): Setting<T, 'default'> {
  return { kind: 'default', ...fields };
}

export function optional<T>(fields: SettingFields<T>): Setting<T, 'optional'> {
  return { kind: 'optional', ...fields };
}

/** A tree of settings: the shape of the configuration object. */
export interface Declaration {
  readonly [key: string]: Setting | Declaration;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type IsOptional<S> = S extends Setting<unknown, 'optional'> ? true : false;

/** The configuration object a declaration yields: a key per setting (optional ones may be absent), an object per group. */
export type ConfigOf<D> = Simplify<
  { -readonly [K in keyof D as IsOptional<D[K]> extends true ? never : K]: D[K] extends Setting<infer T> ? T : ConfigOf<D[K]> } & {
    -readonly [K in keyof D as IsOptional<D[K]> extends true ? K : never]?: D[K] extends Setting<infer T> ? T : never;
  }
>;

export type Env = Record<string, string | undefined>;

/** The variable's text, trimmed; undefined when unset or blank. */
export function text(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function isSetting(entry: Setting | Declaration): entry is Setting {
  return typeof (entry as Setting).parse === 'function' && typeof (entry as Setting).variable === 'string';
}

/** The value of one setting from the environment; throws a ConfigurationError whose one-line message names the variable. */
export function readSetting<T>(env: Env, setting: Setting<T>): T | undefined {
  const raw = text(env, setting.variable);
  if (raw !== undefined) return setting.parse(raw, setting.variable);
  if (setting.kind === 'required') throw new ConfigurationError(`${setting.variable} is not set: it must give ${setting.mustGive ?? 'a value'}.`);
  if (setting.kind === 'default' && setting.default !== undefined) return setting.parse(setting.default, setting.variable);
  return undefined;
}

/** Reads every setting of `declaration`, in the order declared. */
export function loadDeclared<D extends Declaration>(env: Env, declaration: D): ConfigOf<D> {
  const config: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(declaration)) {
    if (!isSetting(entry)) config[key] = loadDeclared(env, entry);
    else {
      const value = readSetting(env, entry);
      if (value !== undefined || entry.kind !== 'optional') config[key] = value;
    }
  }
  return config as ConfigOf<D>;
}

/** Every setting of `declaration`, in the order declared. */
export function settingsOf(declaration: Declaration): Setting[] {
  return Object.values(declaration).flatMap((entry) => (isSetting(entry) ? [entry] : settingsOf(entry)));
}

/** The Markdown table of the settings: variable, meaning, default. */
export function markdownTable(settings: readonly Setting[]): string {
  const rows = settings.map((setting) => {
    const fallback = setting.defaultNote ?? (setting.default !== undefined ? `\`${setting.default}\`` : setting.kind === 'required' ? 'required' : 'none');
    return `| \`${setting.variable}\` | ${setting.doc} | ${fallback} |`;
  });
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

// --- parsers ---

export const anyText: Parser<string> = (raw) => raw;

export const portNumber: Parser<number> = (raw, variable) => {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ConfigurationError(`${variable}="${raw}" is not a port number (0 to 65535).`);
  return Number(raw);
};

export const seconds: Parser<number> = (raw, variable) => {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigurationError(`${variable}="${raw}" is not a number of seconds (0 or more).`);
  return value;
};

export const milliseconds: Parser<number> = (raw, variable) => {
  if (!/^\d{1,5}$/.test(raw)) throw new ConfigurationError(`${variable}="${raw}" is not a whole number of milliseconds (0 or more).`);
  return Number(raw);
};

/** A size in bytes: a whole number from 1 to 2^40. */
export const byteCount: Parser<number> = (raw, variable) => {
  if (!/^\d{1,13}$/.test(raw) || Number(raw) < 1 || Number(raw) > 2 ** 40) throw new ConfigurationError(`${variable}="${raw}" is not a number of bytes from 1 to ${2 ** 40}.`);
  return Number(raw);
};

export const wholeCount: Parser<number> = (raw, variable) => {
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw new ConfigurationError(`${variable}="${raw}" is not a whole number of 1 or more.`);
  return Number(raw);
};

export const months: Parser<number> = (raw, variable) => {
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1) throw new ConfigurationError(`${variable}="${raw}" is not a number of months (1 or more).`);
  return Number(raw);
};

/** A cron expression of 5 or 6 fields that node-cron, which schedules the job, accepts; or "off" (undefined). */
export const cronOrOff: Parser<string | undefined> = (raw, variable) => {
  if (raw === 'off') return undefined;
  const fields = raw.split(/\s+/).length;
  if (fields < 5 || fields > 6 || !/^[\d*/,\-\sA-Za-z?]+$/.test(raw) || !cron.validate(raw)) {
    throw new ConfigurationError(`${variable}="${raw}" is not a cron expression (for example "15 2 * * *") nor "off".`);
  }
  return raw;
};

/** The matcher of a variable's list of IPs and CIDR ranges; a ConfigurationError naming the variable and the first entry that is neither. */
export function addressMatcher(entries: readonly string[], variable: string): AddressMatcher {
  const parsed = parseAddressList(entries);
  if ('invalid' in parsed) throw new ConfigurationError(`${variable} contains "${parsed.invalid}", which is not an IP address or CIDR range (for example 10.1.2.3 or 10.1.0.0/16).`);
  return parsed.matches;
}

/** A comma-separated list of IPs and CIDR ranges (10.0.0.5, 10.1.0.0/16, 2001:db8::/32). */
export const addressList: Parser<string[]> = (raw, variable) => {
  const entries = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  addressMatcher(entries, variable);
  if (entries.length === 0) throw new ConfigurationError(`${variable}="${raw}" names no address; give IPs or CIDR ranges separated by commas.`);
  return entries;
};

/** The name of an HTTP header (RFC 9110 token), lower-cased as Node gives request headers. */
export const headerName: Parser<string> = (raw, variable) => {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/.test(raw)) throw new ConfigurationError(`${variable}="${raw}" is not an HTTP header name (for example X-SSL-Client-Cert).`);
  return raw.toLowerCase();
};

export function oneOf<T extends string>(allowed: readonly T[]): Parser<T> {
  return (raw, variable) => {
    if (!(allowed as readonly string[]).includes(raw)) throw new ConfigurationError(`${variable}="${raw}" is not one of ${allowed.join(', ')}.`);
    return raw as T;
  };
}

/** Text of at least `length` characters (a token). */
export function atLeastCharacters(length: number): Parser<string> {
  return (raw, variable) => {
    if (raw.length < length) throw new ConfigurationError(`${variable} is shorter than ${length} characters; use a long random token.`);
    return raw;
  };
}

/** Comma-separated http(s) URLs, blanks ignored; at least one. */
export const nodeUrls: Parser<string[]> = (raw, variable) => {
  const nodes = raw.split(',').map((node) => node.trim()).filter((node) => node !== '');
  for (const node of nodes) {
    let url: URL;
    try {
      url = new URL(node);
    } catch {
      throw new ConfigurationError(`${variable} contains "${node}", which is not a URL (for example http://127.0.0.1:9200).`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigurationError(`${variable} contains "${node}": only http and https URLs are accepted.`);
  }
  if (nodes.length === 0) throw new ConfigurationError(`${variable} is empty: give at least one node URL.`);
  return nodes;
};

/** One URL of the given protocols (an identity provider: https only; a callback address: http or https). */
export function urlOf(protocols: readonly ('http:' | 'https:')[]): Parser<string> {
  return (raw, variable) => {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw new ConfigurationError(`${variable} is "${raw}", which is not a URL (for example https://login.example.gov/realms/mlog).`);
    }
    if (!(protocols as readonly string[]).includes(url.protocol)) throw new ConfigurationError(`${variable} is "${raw}": only ${protocols.map((protocol) => protocol.slice(0, -1)).join(' and ')} URLs are accepted.`);
    return raw.trim();
  };
}

/** A number above 0 of `unit` (minutes, seconds), fractions allowed (tests shorten periods with them). */
export function positiveNumber(unit: string): Parser<number> {
  return (raw, variable) => {
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || value <= 0) throw new ConfigurationError(`${variable}="${raw}" is not a number of ${unit} above 0.`);
    return value;
  };
}

/** An SMTP server's URL, smtp:// or smtps://, credentials allowed; never repeated in a message, since it can hold a password. */
export const smtpUrl: Parser<string> = (raw, variable) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`${variable} is not a URL (for example smtps://user:password@smtp.example.gov:465).`);
  }
  if ((url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') throw new ConfigurationError(`${variable} must be an smtp:// or smtps:// URL with a host (for example smtps://user:password@smtp.example.gov:465).`);
  return raw;
};

/** Shards of an index: a whole number from 1 to 1024 (Elasticsearch's own limit). */
export const shardCount: Parser<number> = (raw, variable) => {
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1024) throw new ConfigurationError(`${variable}="${raw}" is not a number of shards from 1 to 1024.`);
  return Number(raw);
};

/** Replicas of every shard: a whole number from 0 to 32. */
export const replicaCount: Parser<number> = (raw, variable) => {
  if (!/^\d{1,2}$/.test(raw) || Number(raw) > 32) throw new ConfigurationError(`${variable}="${raw}" is not a number of replicas from 0 to 32.`);
  return Number(raw);
};

/** How many copies of each shard must be active for a write: a whole number from 1 to 33, or "all" (Elasticsearch's `wait_for_active_shards`). */
export const activeShardCount: Parser<number | 'all'> = (raw, variable) => {
  if (raw === 'all') return 'all';
  if (!/^\d{1,2}$/.test(raw) || Number(raw) < 1 || Number(raw) > 33) throw new ConfigurationError(`${variable}="${raw}" is neither "all" nor a number of shard copies from 1 to 33.`);
  return Number(raw);
};

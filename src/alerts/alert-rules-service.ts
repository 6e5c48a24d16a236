import type { ConsoleActor } from '../admins/administrator.js';
import type { AuditLog } from '../audit/audit-log.js';
import { recordBeforeReading } from '../audit/record-before-reading.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/mlog-error.js';
import type { Logger } from '../logging/logger.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { channelProblems, type ChannelConfig } from './channel-problems.js';
import { describeChannels, MAX_RULES, parseRuleInput, readInstant, ruleIdFrom, type AlertRule, type ChannelView, type RuleStateSummary } from './alert-rule.js';
import type { AlertHistoryEntry, AlertHistoryReader, AlertRuleState, AlertRuleStore, AlertStateStore, StoredRule } from './alert-store-type.js';

/** A rule as the API answers it: secrets replaced by "secret_set", with its evaluation state and the version to send back with a change. */
/** Who reads a rule's history: a console administrator, or the caller of the administration API ("admin-api"). */
export type AlertHistoryReaderIdentity = ConsoleActor | { user: string; address: string };

export type RuleView = Omit<AlertRule, 'channels'> & { channels: ChannelView[]; state: RuleStateSummary; version: string };

export interface ActiveAlert {
  rule_id: string;
  rule_name: string;
  group: string;
  state: 'active';
  since: string;
  value: number | string;
}

export const DEFAULT_HISTORY_SIZE = 50;
export const MAX_HISTORY_SIZE = 500;

/** The opaque version of a stored rule, as answers give it and PUT takes it back. */
export function versionText(version: RecordVersion): string {
  return `${version.seqNo}_${version.primaryTerm}`;
}

function readVersion(value: unknown): RecordVersion {
  const match = typeof value === 'string' ? /^(\d{1,15})_(\d{1,15})$/.exec(value) : null;
  if (match === null) throw new ValidationError('version must be the "version" of the rule as you read it (GET /alert-rules/<id>); it says which state of the rule you changed.');
  return { seqNo: Number(match[1]), primaryTerm: Number(match[2]) };
}

function summary(state: AlertRuleState | undefined): RuleStateSummary {
  return {
    active_groups: state?.groups.filter((group) => group.state === 'active').length ?? 0,
    last_evaluated_to: state?.last_evaluated_to ?? null,
    last_fired_at: state?.last_fired_at ?? null,
  };
}

export function describeRule(stored: StoredRule, state: AlertRuleState | undefined): RuleView {
  return { ...stored.rule, channels: describeChannels(stored.rule.channels), state: summary(state), version: versionText(stored.version) };
}

/**
 * Alert rules as administrators manage them (/admin/alert-rules, /console/api/alert-rules, `mlog
 * alerts`): create, replace at a version, mute, remove, and read a rule's history. Promises: a rule
 * is stored only once every field is read and checked (400 naming the path), a change made on a
 * stale version is refused (409), and a person's reading of a history is recorded before it is
 * answered.
 */
export class AlertRulesService {
  constructor(
    private readonly rules: AlertRuleStore,
    private readonly states: AlertStateStore,
    private readonly historyReader: AlertHistoryReader,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    /** Whether e-mail can be sent (MLOG_SMTP_URL and MLOG_SMTP_FROM): a rule with an e-mail channel is refused without it. */
    private readonly channelConfig: ChannelConfig = {},
  ) {}

  /** Refuses (400, naming the path) channels MLog cannot use: a webhook that is not http(s), an e-mail channel while SMTP is not configured. */
  private checkChannels(channels: unknown): void {
    const [problem] = channelProblems(channels, this.channelConfig);
    if (problem !== undefined) throw new ValidationError(problem);
  }

  private async stored(id: string): Promise<StoredRule> {
    const found = id.length <= 64 ? await this.rules.get(id) : undefined;
    if (found === undefined) throw new NotFoundError(`There is no alert rule "${id.slice(0, 64)}".`);
    return found;
  }

  async list(): Promise<RuleView[]> {
    const [rules, states] = await Promise.all([this.rules.list(), this.states.list()]);
    const byRule = new Map(states.map((state) => [state.rule_id, state]));
    return rules.map((stored) => describeRule(stored, byRule.get(stored.rule.id))).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<RuleView> {
    const stored = await this.stored(id);
    return describeRule(stored, (await this.states.get(id))?.state);
  }

  /** Creates a rule from `body`; `by` is who (a username, "admin-api"). */
  async create(body: unknown, by: string, now = new Date()): Promise<RuleView> {
    const input = parseRuleInput(body);
    this.checkChannels(input.channels);
    if ((await this.rules.list()).length >= MAX_RULES) throw new ConflictError(`MLog keeps at most ${MAX_RULES} alert rules; remove one first.`);
    const at = now.toISOString();
    const { id: wanted, ...fields } = input;
    const rule = { ...fields, id: wanted ?? ruleIdFrom(input.name), created_at: at, created_by: by, updated_at: at } as AlertRule;
    const version = await this.rules.create(rule);
    if (version === undefined) throw new ConflictError(`An alert rule "${rule.id}" exists already; choose another id, or change that rule.`);
    this.logger.info('alert rule created', { rule: rule.id, type: rule.type, by });
    return describeRule({ rule, version }, undefined);
  }

  /** Replaces the rule `id` with `body`, which carries the "version" it was read at. A default rule keeps its system and type. */
  async replace(id: string, body: unknown, by: string, now = new Date()): Promise<RuleView> {
    const version = readVersion((body as Record<string, unknown> | null)?.version);
    const stored = await this.stored(id);
    const input = parseRuleInput(body, stored.rule);
    this.checkChannels(input.channels);
    const { id: _ignored, ...fields } = input;
    if (stored.rule.managed !== undefined && (fields.type !== 'absence' || !('system' in fields.params) || fields.params.system !== stored.rule.managed.system)) {
      throw new ValidationError(`params.system of the default rule "${id}" must stay "${stored.rule.managed.system}"; change its duration, channels, schedule or mute instead.`);
    }
    const rule = { ...fields, id, created_at: stored.rule.created_at, created_by: stored.rule.created_by, updated_at: now.toISOString(), ...(stored.rule.managed === undefined ? {} : { managed: stored.rule.managed }) } as AlertRule;
    const written = await this.rules.replace(rule, version);
    if (written === undefined) throw new ConflictError(`The alert rule "${id}" was changed since you read it (at ${stored.rule.updated_at}); read it again and make your change on that.`);
    this.logger.info('alert rule changed', { rule: id, by });
    return describeRule({ rule, version: written }, (await this.states.get(id))?.state);
  }

  /** Mutes the rule until `until` (ISO; null unmutes). Its evaluation goes on; no notification is queued meanwhile. */
  async mute(id: string, until: unknown, by: string, now = new Date()): Promise<RuleView> {
    const mutedUntil = until === null ? null : readInstant(until, 'until');
    if (until !== null && mutedUntil === null) throw new ValidationError('until must be an ISO instant such as 2026-01-31T12:00:00Z.');
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await this.stored(id);
      const rule: AlertRule = { ...stored.rule, muted_until: mutedUntil, updated_at: now.toISOString() };
      const written = await this.rules.replace(rule, stored.version);
      if (written !== undefined) {
        this.logger.info(mutedUntil === null ? 'alert rule unmuted' : 'alert rule muted', { rule: id, by });
        return describeRule({ rule, version: written }, (await this.states.get(id))?.state);
      }
    }
    throw new ConflictError(`The alert rule "${id}" keeps changing; try again.`);
  }

  /** Removes a rule and its state. A default "stopped reporting" rule cannot be removed while its system is active: disable or mute it. */
  async remove(id: string): Promise<void> {
    const stored = await this.stored(id);
    if (stored.rule.managed !== undefined) {
      throw new ConflictError(`The rule "${id}" is the default "stopped reporting" rule of the active system "${stored.rule.managed.system}"; disable it ("enabled": false) or mute it instead.`);
    }
    await this.rules.remove(id);
    await this.states.remove(id);
    this.logger.info('alert rule removed', { rule: id });
  }

  /** The alerts active now, of every rule. */
  async active(): Promise<ActiveAlert[]> {
    const [rules, states] = await Promise.all([this.rules.list(), this.states.list()]);
    const names = new Map(rules.map((stored) => [stored.rule.id, stored.rule.name]));
    const alerts: ActiveAlert[] = [];
    for (const state of states) {
      const name = names.get(state.rule_id);
      if (name === undefined) continue;
      for (const group of state.groups) {
        if (group.state === 'active') alerts.push({ rule_id: state.rule_id, rule_name: name, group: group.group, state: 'active', since: group.since, value: group.value });
      }
    }
    return alerts.sort((a, b) => b.since.localeCompare(a.since));
  }

  /**
   * A rule's history: firings, recoveries and notifications, newest first, each with the events that
   * triggered it. The reading is recorded as MLog.Admin.Query (action "alert-history") before the
   * answer, with the console administrator or the administration API's caller; when it cannot be
   * recorded nothing is answered (503).
   */
  async history(id: string, options: { size?: unknown; after?: unknown }, reader: AlertHistoryReaderIdentity): Promise<{ entries: AlertHistoryEntry[]; cursor?: string }> {
    const size = options.size === undefined || options.size === '' ? DEFAULT_HISTORY_SIZE : Number(options.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_HISTORY_SIZE) throw new ValidationError(`size must be a whole number from 1 to ${MAX_HISTORY_SIZE}.`);
    const after = typeof options.after === 'string' && options.after !== '' ? options.after : undefined;
    if (after !== undefined && after.length > 1_024) throw new ValidationError('after must be the "cursor" of the previous page.');
    await this.stored(id);
    const page = await this.historyReader.history(id, size, after);
    const who =
      'username' in reader
        ? {
            event_message: `${reader.username} (${reader.role}) read the history of alert rule ${id}`,
            user: reader.username,
            admin_role: reader.role,
            session_id: reader.sessionId,
            ...(reader.purpose === null ? {} : { purpose_legal_basis: reader.purpose.legal_basis, purpose_reason: reader.purpose.reason }),
          }
        : { event_message: `${reader.user} read the history of alert rule ${id}`, user: reader.user };
    await recordBeforeReading(
      this.audit,
      { event_type: 'MLog.Admin.Query', ...who, action: 'alert-history', source_address: reader.address, rule_id: id, outcome: 'answered', result_count: page.entries.length },
      {
        refusal: 'The reading could not be recorded in the audit trail, so the history is not shown; try again later.',
        warning: { logger: this.logger, message: 'alert history reading not recorded; its result is withheld' },
      },
    );
    return page;
  }
}

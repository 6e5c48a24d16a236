/**
 * The evaluation of alert rules (docs/alerts.md, "Exactly once"). A tick, run by the scheduler, first
 * makes sure this instance holds the "alerts" lease (only the holder evaluates and delivers), keeps
 * the default "stopped reporting" rules in step with the registry, then evaluates each enabled rule
 * whose own cron schedule came due since its last evaluation.
 *
 * One evaluation of a rule: its window is measured on @received (MLog's receive time) and reaches
 * back `overlapMs` before the end of the previous window, so an event that became searchable late is
 * still seen; the groups observed active are compared with the stored state, so a group already
 * active is never fired again. The new state — with the transitions to announce, each under a
 * deterministic id — is written conditionally on the version read before anything is recorded or
 * queued: of two writers one wins, and a restart finds the transitions still to announce and
 * announces them under the same ids (the audit record and the notifier are idempotent on them).
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { AuditLog } from '../audit/audit-log.js';
import { acquireLease, type HeldLease } from '../jobs/lease.js';
import type { LeaseStore } from '../jobs/lease-store-type.js';
import type { Logger } from '../logging/logger.js';
import type { ConsoleScope } from '../search/console-search-store-type.js';
import { parseQuery, type QueryNode } from '../search/query-language.js';
import type { InformationSystem } from '../systems/information-system.js';
import type { AlertNotification, AlertNotifier } from './alert-notifier-type.js';
import { defaultAbsenceRule, isMuted, MAX_GROUPS, type AlertRule, type Comparator, type RefusalCause } from './alert-rule.js';
import type { AlertDataSource, AlertGroupState, AlertRuleState, AlertRuleStore, AlertSearch, AlertStateStore, EventRef, PendingTransition } from './alert-store-type.js';

export const ALERTS_LEASE = 'alerts';
/** Events named in each firing record and notification. */
export const MAX_EVIDENCE = 100;
const MINUTE = 60_000;
/** Rules evaluated at once by one tick. */
export const EVALUATION_CONCURRENCY = 8;
/** Recovered groups are forgotten this long after they recovered (a later activation starts a new sequence). */
const FORGET_RECOVERED_MS = 7 * 24 * 60 * MINUTE;

export interface AlertEngineDependencies {
  rules: AlertRuleStore;
  states: AlertStateStore;
  data: AlertDataSource;
  audit: AuditLog;
  leases: LeaseStore;
  systems: { list(): Promise<InformationSystem[]> };
  notifier: AlertNotifier;
  logger: Logger;
}

export interface AlertEngineOptions {
  overlapMs: number;
  /** Unique id of this instance's run, as the lease names its holder. */
  holder: string;
  /** Who evaluates, for people: "scheduler on <host>". */
  runBy: string;
  leaseTtlMs?: number;
  clock?: () => Date;
}

export type TickOutcome = { leader: false; holder: string } | { leader: true; evaluated: number; failed: number };

/** What one evaluation observed of a group. */
interface Observation {
  value: number | string;
  evidence: () => Promise<EventRef[]>;
}

interface Evaluated {
  window: { from: Date; to: Date };
  /** The groups whose condition holds now. */
  active: Map<string, Observation>;
  /** New-value groups are forgotten, not recovered, once their value is no longer new. */
  recoverSilently?: boolean;
}

export function compare(count: number, comparator: Comparator, value: number): boolean {
  switch (comparator) {
    case '>':
      return count > value;
    case '>=':
      return count >= value;
    case '<':
      return count < value;
    case '<=':
      return count <= value;
  }
}

function match(field: string, value: string): QueryNode {
  return { kind: 'match', field, value, phrase: false, column: 1 };
}

/** The rejections a refusals rule counts: a signature failure is a 401 of an identified system; any other rejection is a refusal. */
export function refusalQuery(system: string | undefined, causes: readonly RefusalCause[]): QueryNode {
  const signature: QueryNode = { kind: 'and', children: [match('status', '401'), { kind: 'exists', field: 'is', column: 1 }] };
  const cause: QueryNode | undefined = causes.includes('refused') && causes.includes('signature') ? undefined : causes.includes('signature') ? signature : { kind: 'not', child: signature };
  const parts = [...(system === undefined ? [] : [match('is', system)]), ...(cause === undefined ? [] : [cause])];
  if (parts.length === 0) return { kind: 'all' };
  return parts.length === 1 ? parts[0]! : { kind: 'and', children: parts };
}

function emptyState(ruleId: string): AlertRuleState {
  return { rule_id: ruleId, last_evaluated_to: null, last_fired_at: null, groups: [], pending: [] };
}

export class AlertEngine {
  private lease: HeldLease | undefined;
  private readonly schedules = new Map<string, ScheduledTask>();
  private readonly clock: () => Date;
  private readonly leaseTtlMs: number;

  constructor(
    private readonly deps: AlertEngineDependencies,
    private readonly options: AlertEngineOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.leaseTtlMs = options.leaseTtlMs ?? 90_000;
  }

  /** True while this instance holds the alerts lease. */
  get leading(): boolean {
    return this.lease !== undefined;
  }

  /** Takes (or keeps) the lease; the notifier delivers only while it is held. */
  private async holdLease(): Promise<{ held: true } | { held: false; holder: string }> {
    if (this.lease !== undefined) {
      if (await this.lease.renewIfDue()) return { held: true };
      this.lease = undefined;
      await this.deps.notifier.stop();
      this.deps.logger.warn('alerts lease lost; this instance stops evaluating alert rules');
    }
    const acquired = await acquireLease(this.deps.leases, { name: ALERTS_LEASE, holder: this.options.holder, run_by: this.options.runBy, ttlMs: this.leaseTtlMs }, this.clock);
    if (!acquired.acquired) return { held: false, holder: acquired.current.run_by };
    this.lease = acquired.lease;
    this.deps.notifier.start();
    this.deps.logger.info('alerts lease taken; this instance evaluates alert rules');
    return { held: true };
  }

  /** One tick: the lease, the default rules, then every enabled rule that is due. A rule that fails is logged and the others go on. */
  async tick(signal?: AbortSignal): Promise<TickOutcome> {
    const lease = await this.holdLease();
    if (!lease.held) return { leader: false, holder: lease.holder };
    const now = this.clock();
    await this.syncDefaultRules(now);
    const [rules, states] = await Promise.all([this.deps.rules.list(), this.deps.states.list()]);
    const lastTo = new Map(states.map((state) => [state.rule_id, state.last_evaluated_to]));
    const pendingLeft = new Set(states.filter((state) => state.pending.length > 0).map((state) => state.rule_id));
    const due = rules.map(({ rule }) => rule).filter((rule) => rule.enabled && (pendingLeft.has(rule.id) || this.isDue(rule.schedule, lastTo.get(rule.id) ?? null, now)));
    let evaluated = 0;
    let failed = 0;
    // Rules are independent (each its own state, written conditionally): a few are evaluated at once,
    // so a round's duration is not the sum of every rule's round trips to Elasticsearch.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && signal?.aborted !== true) {
        const rule = due[next++] as AlertRule;
        try {
          await this.evaluate(rule, now);
          evaluated++;
        } catch (error) {
          failed++;
          this.deps.logger.warn('alert rule not evaluated', { rule: rule.id, error: (error as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(EVALUATION_CONCURRENCY, due.length) }, worker));
    return { leader: true, evaluated, failed };
  }

  /** True when `schedule` has an instant in (lastTo, now]; a rule never evaluated is due. */
  isDue(schedule: string, lastTo: string | null, now: Date): boolean {
    if (lastTo === null) return true;
    let task = this.schedules.get(schedule);
    if (task === undefined) {
      task = cron.createTask(schedule, () => undefined, { timezone: 'UTC' });
      this.schedules.set(schedule, task);
    }
    const withSeconds = schedule.trim().split(/\s+/).length === 6;
    const step = withSeconds ? 1_000 : MINUTE;
    const last = Date.parse(lastTo);
    let instant = Math.floor(last / step) * step + step;
    for (let steps = 0; instant <= now.getTime(); steps++, instant += step) {
      if (steps > 20_000) return true;
      if (task.match(new Date(instant))) return true;
    }
    return false;
  }

  /** Gives every active system its "stopped reporting" rule, and removes those of systems no longer active. Edits of a default rule are kept. */
  async syncDefaultRules(now: Date): Promise<void> {
    const [systems, rules] = await Promise.all([this.deps.systems.list(), this.deps.rules.list()]);
    const active = new Map(systems.filter((system) => system.status === 'active').map((system) => [system.code, system]));
    const managed = new Set<string>();
    for (const { rule } of rules) {
      if (rule.managed === undefined) continue;
      managed.add(rule.managed.system);
      if (!active.has(rule.managed.system)) {
        await this.deps.rules.remove(rule.id);
        await this.deps.states.remove(rule.id);
        this.deps.logger.info('default alert rule removed: its system is no longer active', { rule: rule.id });
      }
    }
    for (const system of active.values()) {
      if (managed.has(system.code)) continue;
      const rule = defaultAbsenceRule(system, now);
      if ((await this.deps.rules.create(rule)) !== undefined) this.deps.logger.info('default alert rule created', { rule: rule.id });
    }
  }

  private search(scope: ConsoleScope, query: QueryNode, from: Date, to: Date): AlertSearch {
    return { scope, query, from, to };
  }

  /** The window of a count: its length, stretched back to the previous window's end less the overlap when evaluations were missed. */
  private countWindow(windowMinutes: number, lastTo: Date | undefined, to: Date): { from: Date; to: Date } {
    const from = to.getTime() - windowMinutes * MINUTE;
    const reach = lastTo === undefined ? from : lastTo.getTime() - this.options.overlapMs;
    return { from: new Date(Math.min(from, reach)), to };
  }

  private async observe(rule: AlertRule, lastTo: Date | undefined, to: Date): Promise<Evaluated> {
    const { data } = this.deps;
    const active = new Map<string, Observation>();
    switch (rule.type) {
      case 'threshold': {
        const { params } = rule;
        const window = this.countWindow(params.window_minutes, lastTo, to);
        const search = this.search(params.scope, parseQuery(params.query), window.from, window.to);
        const counts = await data.groupCounts(search, params.group_by, MAX_GROUPS);
        if (counts.length === 0 && params.group_by === undefined) counts.push({ key: '', count: 0 });
        for (const { key, count } of counts) {
          if (!compare(count, params.comparator, params.value)) continue;
          active.set(key, { value: count, evidence: () => data.evidence(search, MAX_EVIDENCE, params.group_by === undefined ? undefined : { field: params.group_by, value: key }) });
        }
        return { window, active };
      }
      case 'refusals': {
        const { params } = rule;
        const window = this.countWindow(params.window_minutes, lastTo, to);
        const search = this.search({ kind: 'rejections' }, refusalQuery(params.system, params.causes), window.from, window.to);
        const [counted] = await data.groupCounts(search, undefined, 1);
        const count = counted?.count ?? 0;
        if (count > params.threshold) active.set('', { value: count, evidence: () => data.evidence(search, MAX_EVIDENCE) });
        return { window, active };
      }
      case 'absence': {
        const { params } = rule;
        const window = { from: new Date(to.getTime() - params.duration_minutes * MINUTE), to };
        const scope: ConsoleScope = 'system' in params ? { kind: 'events', systems: [params.system] } : params.scope;
        const query = 'system' in params ? ({ kind: 'all' } as QueryNode) : parseQuery(params.query);
        // A default rule gives a newly active system its whole duration before it can fire.
        if (rule.managed !== undefined && Date.parse(rule.created_at) > window.from.getTime()) return { window, active };
        const [counted] = await data.groupCounts(this.search(scope, query, window.from, window.to), undefined, 1);
        if ((counted?.count ?? 0) === 0) active.set('', { value: 0, evidence: async () => [] });
        return { window, active };
      }
      case 'new-value': {
        const { params } = rule;
        const from = new Date((lastTo ?? to).getTime() - this.options.overlapMs);
        const query = parseQuery(params.query);
        const search = this.search(params.scope, query, from, to);
        const values = (await data.groupCounts(search, params.field, MAX_GROUPS)).map((bucket) => bucket.key);
        const seen = await data.valuesSeen(this.search(params.scope, query, new Date(from.getTime() - params.lookback_days * 24 * 60 * MINUTE), from), params.field, values);
        for (const value of values) {
          if (!seen.has(value)) active.set(value, { value, evidence: () => data.evidence(search, MAX_EVIDENCE, { field: params.field, value }) });
        }
        return { window: { from, to }, active, recoverSilently: true };
      }
    }
  }

  /** Evaluates one rule at `now` (see the module's comment); resolves 'conflict' when another instance stored its evaluation first. */
  async evaluate(rule: AlertRule, now: Date = this.clock()): Promise<'evaluated' | 'conflict'> {
    const stored = await this.deps.states.get(rule.id);
    let state = stored?.state ?? emptyState(rule.id);
    let version = stored?.version;
    if (state.pending.length > 0) {
      // Transitions stored by an evaluation that did not finish announcing them (a restart).
      await this.announce(rule, state.pending);
      state = { ...state, pending: [] };
      version = await this.deps.states.put(state, version);
      if (version === undefined) return 'conflict';
    }
    const lastTo = state.last_evaluated_to === null ? undefined : new Date(state.last_evaluated_to);
    const to = now;
    const observed = await this.observe(rule, lastTo, to);
    const muted = isMuted(rule, now);
    const at = now.toISOString();
    const windowText = { from: observed.window.from.toISOString(), to: observed.window.to.toISOString() };
    const notification = (group: AlertGroupState, kind: AlertNotification['kind'], events: EventRef[], suffix = ''): PendingTransition => ({
      notification: {
        id: `${rule.id}:${group.group}:${group.sequence}:${kind}${suffix}`,
        kind,
        rule: { id: rule.id, name: rule.name, type: rule.type },
        group: group.group,
        value: group.value,
        since: group.since,
        window: windowText,
        events,
        at,
      },
      notify: !muted,
    });

    const pending: PendingTransition[] = [];
    const groups = new Map(state.groups.map((group) => [group.group, group]));
    let lastFiredAt = state.last_fired_at;
    for (const [key, seen] of observed.active) {
      const previous = groups.get(key);
      if (previous?.state === 'active') {
        const last = Date.parse(previous.last_notified_at ?? previous.since);
        const current: AlertGroupState = { ...previous, value: seen.value };
        if (!muted && rule.renotify_minutes > 0 && now.getTime() - last >= rule.renotify_minutes * MINUTE) {
          current.last_notified_at = at;
          pending.push(notification(current, 'reminder', [], `:${at}`));
        }
        groups.set(key, current);
        continue;
      }
      const fired: AlertGroupState = { group: key, state: 'active', since: at, value: seen.value, last_notified_at: muted ? null : at, sequence: (previous?.sequence ?? 0) + 1 };
      groups.set(key, fired);
      pending.push(notification(fired, 'fired', await seen.evidence()));
      lastFiredAt = at;
    }
    for (const [key, group] of groups) {
      if (observed.active.has(key)) continue;
      if (group.state === 'active') {
        if (observed.recoverSilently === true) {
          groups.delete(key);
          continue;
        }
        const recovered: AlertGroupState = { ...group, state: 'recovered', since: at, value: 0 };
        groups.set(key, recovered);
        pending.push(notification(recovered, 'recovered', []));
      } else if (now.getTime() - Date.parse(group.since) > FORGET_RECOVERED_MS) {
        groups.delete(key);
      }
    }

    const next: AlertRuleState = { rule_id: rule.id, last_evaluated_to: to.toISOString(), last_fired_at: lastFiredAt, groups: [...groups.values()], pending };
    const written = await this.deps.states.put(next, version);
    if (written === undefined) return 'conflict';
    if (pending.length > 0) {
      await this.announce(rule, pending);
      await this.deps.states.put({ ...next, pending: [] }, written);
    }
    return 'evaluated';
  }

  /** Records each firing and recovery in the audit (once, under its notification's id) and queues the notifications of an unmuted rule. */
  private async announce(rule: AlertRule, pending: readonly PendingTransition[]): Promise<void> {
    for (const { notification, notify } of pending) {
      if (notification.kind !== 'reminder') {
        const fired = notification.kind === 'fired';
        await this.deps.audit.record(
          {
            event_type: fired ? 'MLog.Alert.Fired' : 'MLog.Alert.Recovered',
            event_message: `Alert rule "${rule.name}"${notification.group === '' ? '' : ` (${notification.group})`} ${fired ? 'fired' : 'recovered'}`,
            user: this.options.runBy,
            rule_id: rule.id,
            rule_name: rule.name,
            rule_type: rule.type,
            group: notification.group,
            value: notification.value,
            window_from: notification.window.from,
            window_to: notification.window.to,
            notification_id: notification.id,
            muted: !notify,
            event_refs: notification.events.map((ref) => `${ref.index}/${ref.id}`),
          },
          new Date(notification.at),
          { id: notification.id, waitForSearch: false },
        );
      }
      if (notify && rule.channels.length > 0) await this.deps.notifier.enqueue(notification, rule.channels);
    }
  }

  /** Gives the lease up and stops the notifier. */
  async stop(): Promise<void> {
    for (const task of this.schedules.values()) await task.destroy();
    this.schedules.clear();
    const lease = this.lease;
    this.lease = undefined;
    if (lease !== undefined) {
      await this.deps.notifier.stop();
      await lease.release().catch((error: unknown) => this.deps.logger.warn('alerts lease not released', { error: (error as Error).message }));
    }
  }
}

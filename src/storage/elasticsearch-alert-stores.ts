import type { Client, estypes } from '@elastic/elasticsearch';
import type { AlertRule } from '../alerts/alert-rule.js';
import type {
  AlertDataSource,
  AlertHistoryEntry,
  AlertHistoryReader,
  AlertRuleState,
  AlertRuleStore,
  AlertSearch,
  AlertStateStore,
  EventRef,
  StoredRule,
  StoredRuleState,
} from '../alerts/alert-store-type.js';
import { ValidationError } from '../errors/mlog-error.js';
import type { RecordVersion } from '../systems/system-store-type.js';
import { buildConsoleQuery } from './console-query-builder.js';
import { target } from './elasticsearch-console-search-store.js';
import { statusOf, storageFailure } from './elasticsearch-errors.js';
import { ALERT_RULES_INDEX, ALERT_STATE_INDEX, AUDIT_INDEX } from './index-names.js';

type Query = estypes.QueryDslQueryContainer;

function versionOf(response: { _seq_no?: number; _primary_term?: number }): RecordVersion {
  return { seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
}

const RULES_UNAVAILABLE = 'alert rules cannot be read or changed now';
const STATE_UNAVAILABLE = 'the state of alert rules cannot be read or written now';

/** Alert rules in ALERT_RULES_INDEX, one document per rule id; writes conditional on Elasticsearch's create and if_seq_no/if_primary_term. */
export class ElasticsearchAlertRuleStore implements AlertRuleStore {
  constructor(private readonly client: Client) {}

  async list(): Promise<StoredRule[]> {
    try {
      const answer = await this.client.search<AlertRule>({ index: ALERT_RULES_INDEX, size: 10_000, seq_no_primary_term: true, ignore_unavailable: true, allow_no_indices: true, query: { match_all: {} } });
      return answer.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [{ rule: hit._source, version: versionOf(hit) }]));
    } catch (error) {
      throw storageFailure(error, RULES_UNAVAILABLE);
    }
  }

  async get(id: string): Promise<StoredRule | undefined> {
    try {
      const answer = await this.client.get<AlertRule>({ index: ALERT_RULES_INDEX, id }, { ignore: [404] });
      if (!answer.found || answer._source === undefined) return undefined;
      return { rule: answer._source, version: versionOf(answer) };
    } catch (error) {
      throw storageFailure(error, RULES_UNAVAILABLE);
    }
  }

  async create(rule: AlertRule): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.create({ index: ALERT_RULES_INDEX, id: rule.id, document: rule, refresh: true }));
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      throw storageFailure(error, RULES_UNAVAILABLE);
    }
  }

  async replace(rule: AlertRule, version: RecordVersion): Promise<RecordVersion | undefined> {
    try {
      return versionOf(await this.client.index({ index: ALERT_RULES_INDEX, id: rule.id, document: rule, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true }));
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, RULES_UNAVAILABLE);
    }
  }

  async remove(id: string, version?: RecordVersion): Promise<boolean> {
    try {
      const answer = await this.client.delete(
        { index: ALERT_RULES_INDEX, id, refresh: true, ...(version === undefined ? {} : { if_seq_no: version.seqNo, if_primary_term: version.primaryTerm }) },
        { ignore: [404] },
      );
      return answer.result === 'deleted';
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw storageFailure(error, RULES_UNAVAILABLE);
    }
  }
}

/** Each rule's evaluation state in ALERT_STATE_INDEX under the rule's id; writes conditional, so of two instances one wins. */
export class ElasticsearchAlertStateStore implements AlertStateStore {
  constructor(private readonly client: Client) {}

  async get(ruleId: string): Promise<StoredRuleState | undefined> {
    try {
      const answer = await this.client.get<AlertRuleState>({ index: ALERT_STATE_INDEX, id: ruleId }, { ignore: [404] });
      if (!answer.found || answer._source === undefined) return undefined;
      return { state: answer._source, version: versionOf(answer) };
    } catch (error) {
      throw storageFailure(error, STATE_UNAVAILABLE);
    }
  }

  async list(): Promise<AlertRuleState[]> {
    try {
      const answer = await this.client.search<AlertRuleState>({ index: ALERT_STATE_INDEX, size: 10_000, ignore_unavailable: true, allow_no_indices: true, query: { match_all: {} } });
      return answer.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source]));
    } catch (error) {
      throw storageFailure(error, STATE_UNAVAILABLE);
    }
  }

  async put(state: AlertRuleState, version: RecordVersion | undefined): Promise<RecordVersion | undefined> {
    try {
      const answer =
        version === undefined
          ? await this.client.create({ index: ALERT_STATE_INDEX, id: state.rule_id, document: state, refresh: true })
          : await this.client.index({ index: ALERT_STATE_INDEX, id: state.rule_id, document: state, if_seq_no: version.seqNo, if_primary_term: version.primaryTerm, refresh: true });
      return versionOf(answer);
    } catch (error) {
      if (statusOf(error) === 409 || statusOf(error) === 404) return undefined;
      throw storageFailure(error, STATE_UNAVAILABLE);
    }
  }

  async remove(ruleId: string): Promise<void> {
    try {
      await this.client.delete({ index: ALERT_STATE_INDEX, id: ruleId, refresh: true }, { ignore: [404] });
    } catch (error) {
      throw storageFailure(error, STATE_UNAVAILABLE);
    }
  }
}

/** The engine's readings of the record: counts, values and evidence of a scope and query, on @received. */
export class ElasticsearchAlertDataSource implements AlertDataSource {
  constructor(private readonly client: Client) {}

  private where(search: AlertSearch, extra: Query[] = []): { index: string; query: Query } {
    const scoped = target(search.scope);
    const range: Query = { range: { '@received': { gt: search.from.getTime(), lte: search.to.getTime(), format: 'epoch_millis' } } };
    return { index: scoped.index, query: { bool: { filter: [range, ...scoped.filter, buildConsoleQuery(search.query, scoped.schema), ...extra] } } };
  }

  async groupCounts(search: AlertSearch, groupBy: string | undefined, maxGroups: number): Promise<{ key: string; count: number }[]> {
    const { index, query } = this.where(search);
    try {
      const answer = await this.client.search({
        index,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        track_total_hits: true,
        query,
        ...(groupBy === undefined ? {} : { aggs: { groups: { terms: { field: groupBy, size: maxGroups } } } }),
      });
      if (groupBy === undefined) {
        const total = answer.hits.total;
        return [{ key: '', count: typeof total === 'number' ? total : (total?.value ?? 0) }];
      }
      const buckets = (answer.aggregations?.groups as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
      return (Array.isArray(buckets) ? buckets : []).map((bucket) => ({ key: String(bucket.key_as_string ?? bucket.key), count: bucket.doc_count }));
    } catch (error) {
      throw storageFailure(error, 'the alert rule cannot be evaluated now');
    }
  }

  async valuesSeen(search: AlertSearch, field: string, values: readonly string[]): Promise<Set<string>> {
    if (values.length === 0) return new Set();
    const { index, query } = this.where(search, [{ terms: { [field]: [...values] } }]);
    try {
      const answer = await this.client.search({ index, ignore_unavailable: true, allow_no_indices: true, size: 0, query, aggs: { seen: { terms: { field, size: values.length } } } });
      const buckets = (answer.aggregations?.seen as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
      return new Set((Array.isArray(buckets) ? buckets : []).map((bucket) => String(bucket.key_as_string ?? bucket.key)));
    } catch (error) {
      throw storageFailure(error, 'the alert rule cannot be evaluated now');
    }
  }

  async evidence(search: AlertSearch, size: number, match?: { field: string; value: string }): Promise<EventRef[]> {
    const { index, query } = this.where(search, match === undefined ? [] : [{ term: { [match.field]: match.value } }]);
    try {
      const answer = await this.client.search({ index, ignore_unavailable: true, allow_no_indices: true, size, _source: false, query, sort: [{ '@received': { order: 'desc', unmapped_type: 'date' } }] });
      return answer.hits.hits.map((hit) => ({ index: hit._index, id: hit._id ?? '' }));
    } catch (error) {
      throw storageFailure(error, 'the alert rule cannot be evaluated now');
    }
  }
}

const HISTORY_KINDS: Record<string, AlertHistoryEntry['kind']> = {
  'MLog.Alert.Fired': 'fired',
  'MLog.Alert.Recovered': 'recovered',
  'MLog.Alert.Notified': 'notified',
  'MLog.Alert.NotificationFailed': 'notification-failed',
};

function decodeAfter(text: string): estypes.SortResults {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((each) => typeof each === 'number' || typeof each === 'string')) return value as estypes.SortResults;
  } catch {
    // refused below
  }
  throw new ValidationError('after is not a cursor MLog gave: pass the "cursor" of the previous page unchanged.');
}

function refsOf(value: unknown): EventRef[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((ref) => {
    if (typeof ref !== 'string') return [];
    const slash = ref.indexOf('/');
    return slash <= 0 ? [] : [{ index: ref.slice(0, slash), id: ref.slice(slash + 1) }];
  });
}

/** A rule's MLog.Alert.* records of the audit index, newest first. */
export class ElasticsearchAlertHistoryReader implements AlertHistoryReader {
  constructor(private readonly client: Client) {}

  async history(ruleId: string, size: number, after?: string): Promise<{ entries: AlertHistoryEntry[]; cursor?: string }> {
    const searchAfter = after === undefined ? undefined : decodeAfter(after);
    let answer;
    try {
      answer = await this.client.search<Record<string, unknown>>({
        index: AUDIT_INDEX,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: size + 1,
        query: { bool: { filter: [{ term: { rule_id: ruleId } }, { terms: { event_type: Object.keys(HISTORY_KINDS) } }] } },
        sort: [{ event_time: 'desc' }, { '@received': { order: 'desc', unmapped_type: 'date' } }],
        ...(searchAfter === undefined ? {} : { search_after: searchAfter }),
      });
    } catch (error) {
      throw storageFailure(error, 'the history of the alert rule cannot be read now');
    }
    const hits = answer.hits.hits;
    const page = hits.slice(0, size);
    const entries = page.map((hit): AlertHistoryEntry => {
      const source = hit._source ?? {};
      const value = source.value;
      return {
        time: String(source.event_time ?? ''),
        kind: HISTORY_KINDS[String(source.event_type)] ?? 'fired',
        group: typeof source.group === 'string' ? source.group : '',
        value: typeof value === 'number' || typeof value === 'string' ? value : null,
        ...(typeof source.channel === 'string' ? { channel: source.channel } : {}),
        ...(typeof source.error === 'string' ? { error: source.error } : {}),
        events: refsOf(source.event_refs),
      };
    });
    const last = page.at(-1);
    return hits.length > size && last?.sort !== undefined ? { entries, cursor: Buffer.from(JSON.stringify(last.sort)).toString('base64url') } : { entries };
  }
}

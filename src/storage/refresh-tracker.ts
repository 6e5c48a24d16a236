import { CLIENT_QUERY_EVENT_TYPE, type EventSearch, type WriteKind } from '../events/event-store-type.js';
import { EVENT_INDEX_PREFIX } from './index-names.js';

/**
 * Which event indices this instance changed (created or deleted documents in) since it last refreshed
 * them, so that a search refreshes only when one of its indices holds a change of this instance not
 * yet visible that the search could match. Each change gets a generation number; a refresh started
 * after a change was acknowledged makes it visible, so after refreshing the indices found dirty at
 * generation g, every mark up to g is cleared and later ones stay.
 *
 * Query records are tracked apart: a search by UID never matches one (its UID is never given out), nor
 * does a search whose event_type filter leaves MLog.ClientQuery out, so those searches do not wait for
 * a refresh that would only make the record of an earlier query visible. Other searches do.
 */
export class RefreshTracker {
  private generation = 0;
  private readonly changed = new Map<string, number>();
  private readonly recordsChanged = new Map<string, number>();

  /** Marks the event indices of `documents` changed (others, like personaldata-*, are refreshed by their own readers); call after Elasticsearch acknowledged the change, before answering. */
  touch(documents: Iterable<{ index: string }>, kind: WriteKind = 'events'): void {
    const generation = ++this.generation;
    const marks = kind === 'events' ? this.changed : this.recordsChanged;
    for (const doc of documents) if (doc.index.startsWith(EVENT_INDEX_PREFIX)) marks.set(doc.index, generation);
  }

  /** The changed indices of one IS (its event indices `mlog-<code>-<yyyy.MM>` only), and the generation they were read at; query records only when asked for. */
  dirty(isCode: string, withQueryRecords = true): { indices: string[]; generation: number } {
    const prefix = `${EVENT_INDEX_PREFIX}${isCode}-`;
    const indices = new Set<string>();
    const own = (index: string): boolean => index.startsWith(prefix) && !index.includes('-', prefix.length);
    for (const index of this.changed.keys()) if (own(index)) indices.add(index);
    if (withQueryRecords) for (const index of this.recordsChanged.keys()) if (own(index)) indices.add(index);
    return { indices: [...indices], generation: this.generation };
  }

  /** `indices` were refreshed by a refresh started after `generation` was read: clears their marks up to it. */
  refreshed(indices: string[], generation: number): void {
    for (const marks of [this.changed, this.recordsChanged]) {
      for (const index of indices) if ((marks.get(index) ?? 0) <= generation) marks.delete(index);
    }
  }
}

/** Whether a search could match a query record: not by UID, and not when its event_type filter leaves the record's type out. */
export function couldMatchQueryRecords(search: EventSearch): boolean {
  if (search.uid !== undefined) return false;
  const eventType = search.conditions.find((condition) => condition.field === 'event_type' && condition.match === 'exact');
  return eventType === undefined || eventType.values.includes(CLIENT_QUERY_EVENT_TYPE);
}

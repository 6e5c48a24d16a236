import { setImmediate as nextTurn } from 'node:timers/promises';
import { MLogError } from '../errors/mlog-error.js';
import type { DocumentToWrite, EventPage, EventSearch, EventStore, WriteKind } from '../events/event-store-type.js';
import { utcMonth } from '../events/event-time.js';
import { HASH_FIELD, hashedEventText, LOG_FIELD, POSITION_FIELD } from './event-hash.js';
import type { LogLeaf } from './evidence-log-entry.js';
import type { EvidenceLog } from './evidence-log.js';

/** Documents hashed between two turns of the event loop: a large batch leaves room for other calls. */
const HASHED_PER_TURN = 256;

/** The plain-English reason a void leaf keeps: the status and kind of the refusal, never its message (it may quote an event). */
export function voidReason(error: unknown): string {
  if (error instanceof MLogError) return `the write was refused (${error.status} ${error.name}); nothing of it is stored`;
  return 'the write failed inside MLog; nothing of it is stored';
}

/**
 * The event store with the evidence log in front (docs/evidence.md): every document bound for an
 * event index gets `@log` and `@position` (handed out synchronously, before anything waits) and then
 * `@hash` over the whole document, and hands the store the canonical text hashed (with `@hash`
 * first) to send as it is; the positions settle as event
 * leaves when the write resolves, or as void leaves when it throws. PersonalData projections pass
 * through untouched. The documents are changed in place, so the caller reads the fields after.
 */
export class EvidenceEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore & { close(graceMs: number): Promise<void> },
    private readonly log: EvidenceLog,
  ) {}

  async writeAll(documents: DocumentToWrite[], kind: WriteKind, system: string): Promise<void> {
    const logged = documents.filter((doc) => doc.target.kind === 'events');
    const first = this.log.reserve(logged.length);
    const leaves: LogLeaf[] = [];
    // Documents that share a target share its month.
    let lastTarget: DocumentToWrite['target'] | undefined;
    let month = '';
    try {
      for (const [offset, doc] of logged.entries()) {
        if (offset > 0 && offset % HASHED_PER_TURN === 0) await nextTurn();
        const document = doc.document;
        // Written again (a shared write refused, then each call alone): new positions, a new hash.
        if (HASH_FIELD in document) delete document[HASH_FIELD];
        document[LOG_FIELD] = this.log.id;
        document[POSITION_FIELD] = first + offset;
        const { hash, text } = hashedEventText(document);
        document[HASH_FIELD] = hash;
        // The store sends the canonical text it was hashed from, instead of serialising the document again.
        doc.serialized = text;
        const target = doc.target as Extract<DocumentToWrite['target'], { kind: 'events' }>;
        if (target !== lastTarget) month = utcMonth((lastTarget = target).receivedAt);
        leaves.push({ kind: 'event', id: doc.id, hash, is: target.isCode, month });
      }
      await this.inner.writeAll(documents, kind, system);
    } catch (error) {
      if (logged.length > 0) this.log.voidPositions(first, logged.length, voidReason(error));
      throw error;
    }
    if (logged.length > 0) this.log.settle(first, leaves);
  }

  search(search: EventSearch): Promise<EventPage> {
    return this.inner.search(search);
  }

  fieldTypes(isCode: string, fields: string[]): Promise<Map<string, string[]>> {
    return this.inner.fieldTypes(isCode, fields);
  }

  prepareIndex(isCode: string, at: Date): Promise<void> {
    return this.inner.prepareIndex(isCode, at);
  }

  /** Lets the writes in flight finish (as the store does), so that every position has settled. */
  async close(graceMs: number): Promise<void> {
    await this.inner.close(graceMs);
  }
}

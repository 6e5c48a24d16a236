/**
 * The syslog door's rules, independent of the socket: who is calling (a client certificate, or for
 * plain TCP a registered source address), and one message → parse → map → the ingest pipeline, with
 * storage faults waited out (never dropping what was read) and refusals recorded. docs/syslog.md.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { identifyCaller, type PeerCredentials } from '../auth/caller-identifier.js';
import { ForbiddenError, MLogError } from '../errors/mlog-error.js';
import type { IngestService } from '../events/ingest-service.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RejectionRecorder } from '../rejections/rejection-recorder.js';
import { normalizeAddress } from '../systems/address-matcher.js';
import type { KnownSystem, SystemRegistry } from '../systems/system-registry.js';
import { syslogRegistration } from './syslog-event.js';
import { parseSyslogMessage } from './syslog-message.js';

/** The three syslog listeners: RFC 5425 syslog over TLS, RELP over TLS, plain TCP. */
export type SyslogDoorKind = 'tls' | 'relp' | 'tcp';

/** How a door names itself in the rejections index (`method`) and in the log. */
export const DOOR_NAMES: Record<SyslogDoorKind, string> = { tls: 'SYSLOG-TLS', relp: 'RELP', tcp: 'SYSLOG-TCP' };

/**
 * Messages of one connection read and not yet answered; past it the connection is not read. They are
 * stored in groups (below), each group one write, so they share Elasticsearch bulks. 4,000 held MLog's
 * RSS at 211–233 MB under `npm run bench -- --only syslog` (4 connections), 2,000 at 180–193 MB, at
 * the same rate (docs/performance.md, "A quiet machine").
 */
export const MESSAGES_IN_FLIGHT_PER_CONNECTION = 2_000;

/** Bytes of messages of one connection read and not yet answered; past it the connection is not read. */
export const BYTES_IN_FLIGHT_PER_CONNECTION = 8 * 1024 * 1024;

/** The most messages of one connection stored in one write (one bulk of the group commit holds up to 500 operations). */
export const MESSAGES_PER_GROUP = 500;

/**
 * Groups of one connection being stored at once: while some are written, the next are gathered and
 * parsed. Measured with `npm run bench -- --only syslog`: 2 groups (of at most 1,000 messages in flight)
 * reached 2,900 messages/s, 8 (of 4,000) 5,800–7,100, MLog still below one core.
 */
export const GROUPS_IN_FLIGHT_PER_CONNECTION = 8;

/** The first and longest wait between two attempts to store a message while storage is unavailable. */
export const RETRY_FIRST_MS = 100;
export const RETRY_MAX_MS = 2_000;

export interface SyslogDoorDependencies {
  registry: SystemRegistry;
  ingest: IngestService;
  rejections: RejectionRecorder;
  metrics: Metrics;
  logger: Logger;
  /** MLOG_SYSLOG_MAX_MESSAGE_BYTES. */
  maxMessageBytes: number;
}

/** Who is on the other end of a syslog connection. */
export interface SyslogPeer {
  door: SyslogDoorKind;
  /** The TLS doors: the client certificate; plain TCP: none. */
  credentials?: PeerCredentials;
  sourceAddress: string;
}

/** One message as read from a connection: its bytes (one de-framed frame) and when it was read. */
export interface ReadMessage {
  data: Buffer;
  receivedAt: Date;
}

/** The ingest pipeline's call for one message: its mapped event, or MSG as a /register body. */
type IngestCall = Parameters<IngestService['registerEach']>[1][number];

/** A message of a group being stored: its UID kept over retries, its call once parsed and mapped. */
interface PendingMessage extends ReadMessage {
  position: number;
  uid: string;
  call: IngestCall | undefined;
}

/** What became of one message. */
export type MessageOutcome =
  /** `uid`: the registration's UID, as `/register` answers it (RELP sends it after `200 OK`). */
  | { kind: 'stored'; events: number; uid: string }
  /** Not a valid event, or its system may no longer send (`closeConnection`): refused, recorded. */
  | { kind: 'refused'; status: number; reason: string; closeConnection: boolean }
  /** Storage stayed unavailable until the shutdown grace ran out: not stored (RELP leaves it unacknowledged). */
  | { kind: 'abandoned' };

/** Transient refusals of the ingest pipeline: storage unavailable or slow (503), too much waiting (429). Waited out, never answered. */
function isTransient(error: unknown): boolean {
  return error instanceof MLogError && (error.status === 503 || error.status === 429);
}

/**
 * The syslog door's service calls, shared by the listeners of one process. `hold(true)` is called
 * while a message waits for storage to come back, so that its connection stops reading (back-pressure).
 */
export class SyslogDoor {
  /** Set at shutdown: storing is retried until then, and abandoned after. */
  private deadline: number | undefined;

  constructor(readonly dependencies: SyslogDoorDependencies) {}

  get maxMessageBytes(): number {
    return this.dependencies.maxMessageBytes;
  }

  get logger(): Logger {
    return this.dependencies.logger;
  }

  get metrics(): Metrics {
    return this.dependencies.metrics;
  }

  /** Shutdown began: messages already read are stored if storage answers within `graceMs`. */
  shutdown(graceMs: number): void {
    this.deadline ??= Date.now() + graceMs;
  }

  /** The IS on the other end, or the refusal (401/403) to record before closing the connection. */
  async identify(peer: SyslogPeer, now = new Date()): Promise<KnownSystem> {
    if (peer.credentials !== undefined) return identifyCaller(this.dependencies.registry, peer.credentials, now);
    const found = await this.dependencies.registry.findBySyslogAddress(peer.sourceAddress);
    const address = normalizeAddress(peer.sourceAddress);
    if (found === undefined) {
      throw new ForbiddenError(`No information system lists ${address} in its syslog_addresses; plain-TCP syslog is accepted only from a registered address (or use syslog over TLS with the system certificate).`);
    }
    if ('ambiguous' in found) {
      throw new ForbiddenError(`The syslog_addresses of several information systems (${found.ambiguous.join(', ')}) hold ${address}; plain-TCP syslog from it cannot be attributed to one system.`);
    }
    if (found.known.system.status === 'suspended') {
      throw new ForbiddenError(`Information system "${found.known.system.code}" is suspended; contact the MLog administrators.`, { system: found.known.system.code });
    }
    return found.known;
  }

  /**
   * A connection of `caller` was accepted: its system's index of this month is created now if it does
   * not exist, so that the first messages do not wait for it. Returns at once; never throws.
   */
  connectionAccepted(caller: KnownSystem): void {
    void this.dependencies.ingest.prepareIndex(caller);
  }

  /**
   * Stores a group of messages read from one connection, in the order read: each message is judged on
   * its own (parsed, mapped, validated: a refused one is refused alone, with its reason) and the valid
   * ones are written together, in one write through the group commit. Resolves with one outcome per
   * message: `stored` only once its event is durably written (the ingest pipeline's promise),
   * `refused` when it does not make a valid event or its system may no longer send. While storage is
   * unavailable it calls `hold(true)`, retries what is not stored yet with backoff, and `hold(false)`
   * when it is through; it gives up (`abandoned`) only when the shutdown grace runs out.
   */
  async storeGroup(peer: SyslogPeer, messages: readonly ReadMessage[], hold: (held: boolean) => void): Promise<MessageOutcome[]> {
    // Every attempt registers a message under the same UID (so the same document ids): an attempt whose
    // write Elasticsearch applied after MLog stopped waiting makes the next attempt find its events, not store them twice.
    // Built member by member, not spread: object spread measured ~4 % of MLog's CPU under syslog load.
    const pending: PendingMessage[] = messages.map((message, position) => ({ data: message.data, receivedAt: message.receivedAt, position, uid: randomUUID(), call: undefined }));
    const outcomes: (MessageOutcome | undefined)[] = messages.map(() => undefined);
    let remaining = pending;
    let wait = RETRY_FIRST_MS;
    let held = false;
    try {
      for (;;) {
        const retry: PendingMessage[] = [];
        try {
          // The registry is read from storage when its cache is stale: identification waits out an outage too.
          let caller: KnownSystem;
          try {
            caller = await this.identify(peer, remaining[0]?.receivedAt ?? new Date());
          } catch (error) {
            if (error instanceof MLogError && !isTransient(error)) {
              for (const message of remaining) outcomes[message.position] = { kind: 'refused', status: error.status, reason: error.message, closeConnection: true };
              return outcomes as MessageOutcome[];
            }
            throw error;
          }
          const calls: PendingMessage[] = [];
          // The messages of one read share their receipt time, so their parsing context too.
          let context = { receivedAt: remaining[0]?.receivedAt ?? new Date(), timezone: caller.syslogTimezone };
          for (const message of remaining) {
            if (message.call === undefined) {
              if (message.receivedAt !== context.receivedAt) context = { receivedAt: message.receivedAt, timezone: caller.syslogTimezone };
              const parsed = parseSyslogMessage(message.data.toString('utf8'), context);
              if (!parsed.ok) {
                outcomes[message.position] = { kind: 'refused', status: 400, reason: `The syslog message cannot be read at column ${parsed.column}: ${parsed.reason}.`, closeConnection: false };
                continue;
              }
              // A mapped event goes to the pipeline as the object it is; MSG holding events, as the body it is.
              const registration = syslogRegistration(parsed.message, message.receivedAt);
              message.call =
                'event' in registration
                  ? { event: registration.event, receivedAt: message.receivedAt, uid: message.uid }
                  : { body: Buffer.from(registration.body, 'utf8'), receivedAt: message.receivedAt, uid: message.uid };
            }
            calls.push(message);
          }
          const registered = await this.dependencies.ingest.registerEach(
            caller,
            calls.map((message) => message.call as IngestCall),
          );
          let events = 0;
          for (let index = 0; index < registered.length; index++) {
            const registration = registered[index] as (typeof registered)[number];
            const message = calls[index] as PendingMessage;
            if (registration.ok) {
              events += registration.registration.events;
              outcomes[message.position] = { kind: 'stored', events: registration.registration.events, uid: registration.registration.uid };
            } else if (isTransient(registration.error)) retry.push(message);
            else outcomes[message.position] = this.refusalOf(registration.error, peer, caller.system.code);
          }
          if (events > 0) this.metrics.eventsRegistered.inc({ system: caller.system.code }, events);
        } catch (error) {
          if (!isTransient(error)) {
            for (const message of remaining) outcomes[message.position] ??= this.refusalOf(error, peer, undefined);
            return outcomes as MessageOutcome[];
          }
          retry.push(...remaining.filter((message) => outcomes[message.position] === undefined));
        }
        if (retry.length === 0) return outcomes as MessageOutcome[];
        remaining = retry;
        if (this.deadline !== undefined && Date.now() + wait > this.deadline) {
          for (const message of remaining) outcomes[message.position] = { kind: 'abandoned' };
          return outcomes as MessageOutcome[];
        }
        if (!held) {
          held = true;
          hold(true);
        }
        await sleep(wait);
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    } finally {
      if (held) hold(false);
    }
  }

  /** The refusal of a message for a lasting reason: an MLog error's status and message, or a defect (logged, its detail kept from the sender). */
  private refusalOf(error: unknown, peer: SyslogPeer, system: string | undefined): MessageOutcome {
    if (error instanceof MLogError) return { kind: 'refused', status: error.status, reason: error.message, closeConnection: false };
    this.logger.error('a syslog message could not be registered because of a defect', { system, door: peer.door, error: (error as Error).message });
    return { kind: 'refused', status: 500, reason: 'MLog could not register this message because of a defect; the MLog administrators have it in their log.', closeConnection: false };
  }

  /** Records a refused message or connection in the rejections index (the first 4 KB of what was sent). */
  recordRefusal(peer: SyslogPeer, refusal: { status: number; reason: string; system?: string; excerpt?: Buffer }): void {
    this.dependencies.rejections.record({
      at: new Date(),
      status: refusal.status,
      reason: refusal.reason,
      ...(refusal.system === undefined ? {} : { system: refusal.system }),
      ...(peer.credentials?.fingerprint256 === undefined ? {} : { certificateFingerprint: peer.credentials.fingerprint256 }),
      sourceAddress: normalizeAddress(peer.sourceAddress),
      method: DOOR_NAMES[peer.door],
      path: peer.door,
      requestId: randomUUID(),
      ...(refusal.excerpt === undefined ? {} : { body: new Uint8Array(refusal.excerpt) }),
    });
  }
}

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
import { syslogRegistrationBody } from './syslog-event.js';
import { parseSyslogMessage } from './syslog-message.js';

/** The three syslog listeners: RFC 5425 syslog over TLS, RELP over TLS, plain TCP. */
export type SyslogDoorKind = 'tls' | 'relp' | 'tcp';

/** How a door names itself in the rejections index (`method`) and in the log. */
export const DOOR_NAMES: Record<SyslogDoorKind, string> = { tls: 'SYSLOG-TLS', relp: 'RELP', tcp: 'SYSLOG-TCP' };

/** Messages of one connection being stored at once; they share Elasticsearch bulks through the group commit. */
export const MESSAGES_IN_FLIGHT_PER_CONNECTION = 64;

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

/** What became of one message. */
export type MessageOutcome =
  | { kind: 'stored'; events: number }
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
      throw new ForbiddenError(`Information system "${found.known.system.code}" is suspended; contact the MLog administrators.`);
    }
    return found.known;
  }

  /**
   * Stores one message of `caller`: resolves `stored` only once it is durably written (the ingest
   * pipeline's promise), `refused` when it does not make a valid event or its system may no longer
   * send. While storage is unavailable it calls `hold(true)`, retries with backoff, and `hold(false)`
   * when it is through; it gives up (`abandoned`) only when the shutdown grace runs out.
   */
  async store(peer: SyslogPeer, data: Buffer, receivedAt: Date, hold: (held: boolean) => void): Promise<MessageOutcome> {
    // Every attempt registers under the same UID (so the same document ids): an attempt whose write
    // Elasticsearch applied after MLog stopped waiting makes the next attempt find its events, not store them twice.
    const uid = randomUUID();
    let prepared: { caller: KnownSystem; body: Buffer } | undefined;
    let wait = RETRY_FIRST_MS;
    let held = false;
    try {
      for (;;) {
        try {
          if (prepared === undefined) {
            // The registry is read from storage when its cache is stale: identification waits out an outage too.
            let caller: KnownSystem;
            try {
              caller = await this.identify(peer, receivedAt);
            } catch (error) {
              if (error instanceof MLogError && !isTransient(error)) return { kind: 'refused', status: error.status, reason: error.message, closeConnection: true };
              throw error;
            }
            const parsed = parseSyslogMessage(data.toString('utf8'), { receivedAt, timezone: caller.syslogTimezone });
            if (!parsed.ok) return { kind: 'refused', status: 400, reason: `The syslog message cannot be read at column ${parsed.column}: ${parsed.reason}.`, closeConnection: false };
            prepared = { caller, body: Buffer.from(syslogRegistrationBody(parsed.message, receivedAt), 'utf8') };
          }
          const { caller, body } = prepared;
          const registration = await this.dependencies.ingest.register({ caller, body, receivedAt, uid });
          this.metrics.eventsRegistered.inc({ system: caller.system.code }, registration.events);
          return { kind: 'stored', events: registration.events };
        } catch (error) {
          if (!isTransient(error)) {
            if (error instanceof MLogError) return { kind: 'refused', status: error.status, reason: error.message, closeConnection: false };
            this.logger.error('a syslog message could not be registered because of a defect', { system: prepared?.caller.system.code, door: peer.door, error: (error as Error).message });
            return { kind: 'refused', status: 500, reason: 'MLog could not register this message because of a defect; the MLog administrators have it in their log.', closeConnection: false };
          }
          if (this.deadline !== undefined && Date.now() + wait > this.deadline) return { kind: 'abandoned' };
          if (!held) {
            held = true;
            hold(true);
          }
          await sleep(wait);
          wait = Math.min(wait * 2, RETRY_MAX_MS);
        }
      }
    } finally {
      if (held) hold(false);
    }
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

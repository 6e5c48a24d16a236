/**
 * The syslog listeners (docs/syslog.md, "Listeners"): syslog over TLS (RFC 5425), RELP over TLS, and
 * plain TCP. Each connection is de-framed (syslog-framing.ts, relp-framing.ts), its messages stored
 * in groups through the door (syslog-door.ts), and its reading paused while it has its most
 * messages in flight or storage is unavailable (TCP back-pressure holds the sender).
 */
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { PeerCredentials } from '../auth/caller-identifier.js';
import { MLogError } from '../errors/mlog-error.js';
import type { KnownSystem } from '../systems/system-registry.js';
import { RELP_OFFERS, RELP_SERVERCLOSE, RelpFramer, relpResponse } from './relp-framing.js';
import { BYTES_IN_FLIGHT_PER_CONNECTION, DOOR_NAMES, GROUPS_IN_FLIGHT_PER_CONNECTION, MESSAGES_IN_FLIGHT_PER_CONNECTION, MESSAGES_PER_GROUP, type MessageOutcome, type ReadMessage, type SyslogDoor, type SyslogDoorKind, type SyslogPeer } from './syslog-door.js';
import { FRAME_EXCERPT_BYTES, SyslogFramer } from './syslog-framing.js';

export interface SyslogListening {
  door: SyslogDoorKind;
  port: number;
  /** Stops accepting, stops reading, stores what was read (bounded by `graceMs`), answers RELP, closes. */
  close(graceMs: number): Promise<void>;
}

/** The server certificate and the CAs of client certificates: those of the public HTTPS listener. */
export interface SyslogTlsFiles {
  certPath: string;
  keyPath: string;
  clientCaPath: string;
  handshakeTimeoutMs: number;
}

/** A connection that sends nothing for this long is closed (syslog senders keep theirs open, and reconnect). */
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

function credentialsOf(socket: TLSSocket): PeerCredentials {
  const certificate = socket.getPeerX509Certificate();
  const chainError = socket.authorizationError;
  return {
    fingerprint256: certificate?.fingerprint256,
    chainError: socket.authorized || chainError === undefined || chainError === null ? undefined : String(chainError),
    sourceAddress: socket.remoteAddress ?? '',
  };
}

/**
 * One connection's work: the messages read are gathered into groups of at most MESSAGES_PER_GROUP,
 * each stored in one write, GROUPS_IN_FLIGHT_PER_CONNECTION groups at once (while one is written the
 * next is gathered); each message's outcome is settled in the order read within its group. The socket
 * is not read while MESSAGES_IN_FLIGHT_PER_CONNECTION messages or BYTES_IN_FLIGHT_PER_CONNECTION
 * bytes are unanswered, or a group waits for storage.
 */
class ConnectionWork {
  private queue: { message: ReadMessage; settle: (outcome: MessageOutcome) => void }[] = [];
  private groupsInFlight = 0;
  private messages = 0;
  private bytes = 0;
  private pumpScheduled = false;
  private holds = 0;
  private pausedSince: number | undefined;
  private stopped = false;
  private idle: (() => void)[] = [];
  system = '';

  constructor(
    private readonly socket: Socket,
    private readonly door: SyslogDoor,
    private readonly peer: SyslogPeer,
  ) {}

  /** Queues a message read; `settle` is called with its outcome. Groups start on the next turn of the event loop, so the messages of one read travel together. */
  add(message: ReadMessage, settle: (outcome: MessageOutcome) => void): void {
    this.queue.push({ message, settle });
    this.messages++;
    this.bytes += message.data.length;
    this.flow();
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  hold = (held: boolean): void => {
    this.holds += held ? 1 : -1;
    this.flow();
  };

  /** Reads nothing more from the socket (shutdown, a broken frame, a refused system). */
  stopReading(): void {
    this.stopped = true;
    this.flow();
  }

  /** Resolves when every message read so far has its outcome. */
  drained(): Promise<void> {
    if (this.messages === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.groupsInFlight < GROUPS_IN_FLIGHT_PER_CONNECTION && this.queue.length > 0) {
      // The whole queue when it fits in a group (the usual case): taken as it is, not copied out.
      let group = this.queue;
      if (group.length <= MESSAGES_PER_GROUP) this.queue = [];
      else group = this.queue.splice(0, MESSAGES_PER_GROUP);
      this.groupsInFlight++;
      void this.door
        .storeGroup(this.peer, group.map((entry) => entry.message), this.hold)
        .then((outcomes) => {
          for (let index = 0; index < group.length; index++) (group[index] as (typeof group)[number]).settle(outcomes[index] as MessageOutcome);
        })
        .finally(() => {
          this.groupsInFlight--;
          this.messages -= group.length;
          for (const entry of group) this.bytes -= entry.message.data.length;
          this.pump();
          if (this.messages === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
    this.flow();
  }

  private flow(): void {
    const pause = this.stopped || this.holds > 0 || this.messages >= MESSAGES_IN_FLIGHT_PER_CONNECTION || this.bytes >= BYTES_IN_FLIGHT_PER_CONNECTION;
    if (pause && this.pausedSince === undefined) {
      this.pausedSince = Date.now();
      this.socket.pause();
    } else if (!pause && this.pausedSince !== undefined) {
      this.door.metrics.syslogPausedSeconds.inc({ door: this.peer.door, system: this.system }, (Date.now() - this.pausedSince) / 1000);
      this.pausedSince = undefined;
      this.socket.resume();
    }
  }

  /** Counts the time paused so far (at close). */
  settle(): void {
    if (this.pausedSince === undefined) return;
    this.door.metrics.syslogPausedSeconds.inc({ door: this.peer.door, system: this.system }, (Date.now() - this.pausedSince) / 1000);
    this.pausedSince = Date.now();
  }
}

/** Holds the open connections of a listener and what each needs at shutdown. */
interface OpenConnection {
  work: ConnectionWork;
  /** Stops reading, waits for the messages read, answers what the protocol answers, ends the socket. */
  finish(): Promise<void>;
  socket: Socket;
}

/**
 * The message counters of one connection, added up and handed to prom-client in one call per burst (the
 * frames of one read, the outcomes of one group), in a microtask: prom-client hashes the label object
 * on every `inc`, which cost ~2 % of MLog's CPU when done per message under syslog load.
 */
class MessageCounters {
  private readonly counts = { received: 0, stored: 0, refused: 0 };
  private scheduled = false;

  constructor(
    private readonly door: SyslogDoor,
    private readonly kind: SyslogDoorKind,
    private readonly system: string,
  ) {}

  count(outcome: 'received' | 'stored' | 'refused'): void {
    this.counts[outcome]++;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const outcome of ['received', 'stored', 'refused'] as const) {
      const count = this.counts[outcome];
      if (count === 0) continue;
      this.counts[outcome] = 0;
      this.door.metrics.syslogMessages.inc({ door: this.kind, system: this.system, outcome }, count);
    }
  }
}

/** What every connection does with a message outcome: count it, and record a refusal. */
function account(door: SyslogDoor, peer: SyslogPeer, system: string, counters: MessageCounters, outcome: MessageOutcome, data: Buffer): void {
  if (outcome.kind === 'stored') counters.count('stored');
  else if (outcome.kind === 'refused') {
    counters.count('refused');
    door.recordRefusal(peer, { status: outcome.status, reason: outcome.reason, system, excerpt: data.subarray(0, FRAME_EXCERPT_BYTES) });
  } else {
    door.logger.error('a syslog message read before shutdown could not be stored: Elasticsearch did not answer within the shutdown grace', { door: peer.door, system });
  }
}

function oversizedReason(door: SyslogDoor, bytes: number): string {
  return `The syslog message is ${bytes} bytes, over MLOG_SYSLOG_MAX_MESSAGE_BYTES (${door.maxMessageBytes}); it was skipped.`;
}

/** Syslog over TLS or plain TCP: no answers; refusals recorded, the connection goes on (a broken frame closes it). */
function serveSyslog(door: SyslogDoor, socket: Socket, peer: SyslogPeer, caller: KnownSystem): OpenConnection {
  const system = caller.system.code;
  const work = new ConnectionWork(socket, door, peer);
  work.system = system;
  const framer = new SyslogFramer(door.maxMessageBytes);
  const counters = new MessageCounters(door, peer.door, system);
  let ending = false;
  const finish = async () => {
    work.stopReading();
    await work.drained();
    work.settle();
    socket.end();
  };
  socket.on('data', (chunk: Buffer) => {
    const receivedAt = new Date();
    for (const frame of framer.push(chunk)) {
      if (frame.kind === 'message') {
        counters.count('received');
        work.add({ data: frame.data, receivedAt }, (outcome) => {
          account(door, peer, system, counters, outcome, frame.data);
          if (outcome.kind === 'refused' && outcome.closeConnection && !ending) {
            ending = true;
            void finish();
          }
        });
      } else if (frame.kind === 'oversized') {
        counters.count('received');
        counters.count('refused');
        door.recordRefusal(peer, { status: 413, reason: oversizedReason(door, frame.bytes), system, excerpt: frame.excerpt });
      } else {
        door.metrics.syslogFramingErrors.inc({ door: peer.door, system });
        door.recordRefusal(peer, { status: 400, reason: `The connection was closed: ${frame.reason}.`, system, excerpt: frame.excerpt });
        if (!ending) {
          ending = true;
          void finish();
        }
      }
    }
  });
  socket.on('end', () => {
    if (ending) return;
    ending = true;
    void finish();
  });
  return { work, finish, socket };
}

/**
 * RELP: every `syslog` command answered `200 OK` only once its message is durably stored, `500
 * <reason>` when refused; answers leave in the order of the commands. `close` is answered once every
 * earlier command is, then the connection ends.
 */
function serveRelp(door: SyslogDoor, socket: Socket, peer: SyslogPeer, caller: KnownSystem | MLogError): OpenConnection {
  const system = caller instanceof MLogError ? '' : caller.system.code;
  const work = new ConnectionWork(socket, door, peer);
  work.system = system;
  const framer = new RelpFramer(door.maxMessageBytes);
  const counters = new MessageCounters(door, 'relp', system);
  const answers: { txnr: number; text: string | undefined; then?: () => void }[] = [];
  let opened = false;
  let ending = false;
  const send = () => {
    while (answers.length > 0 && answers[0]?.text !== undefined) {
      const answer = answers.shift() as { txnr: number; text: string; then?: () => void };
      if (socket.writable) socket.write(relpResponse(answer.txnr, answer.text));
      answer.then?.();
    }
  };
  const answerLater = (txnr: number, then?: () => void) => {
    const slot: { txnr: number; text: string | undefined; then?: () => void } = { txnr, text: undefined, ...(then === undefined ? {} : { then }) };
    answers.push(slot);
    return (text: string) => {
      slot.text = text;
      send();
    };
  };
  const end = () => {
    if (ending) return;
    ending = true;
    work.stopReading();
    void work.drained().then(() => {
      work.settle();
      socket.end();
    });
  };
  const finish = async () => {
    work.stopReading();
    await work.drained();
    work.settle();
    if (socket.writable && !ending) socket.write(RELP_SERVERCLOSE);
    ending = true;
    socket.end();
  };
  socket.on('data', (chunk: Buffer) => {
    const receivedAt = new Date();
    for (const frame of framer.push(chunk)) {
      if (frame.kind === 'broken') {
        door.metrics.syslogFramingErrors.inc({ door: 'relp', system });
        door.recordRefusal(peer, { status: 400, reason: `The connection was closed: ${frame.reason}.`, system, excerpt: frame.excerpt });
        end();
        return;
      }
      if (frame.kind === 'oversized') {
        const reason = frame.command === 'syslog' ? oversizedReason(door, frame.bytes) : `The RELP command "${frame.command}" carries ${frame.bytes} bytes, over MLOG_SYSLOG_MAX_MESSAGE_BYTES (${door.maxMessageBytes}).`;
        counters.count('received');
        counters.count('refused');
        door.recordRefusal(peer, { status: 413, reason, system });
        answerLater(frame.txnr)(`500 ${reason}`);
        continue;
      }
      const { txnr, command, data } = frame;
      if (command === 'open') {
        if (caller instanceof MLogError) {
          answerLater(txnr, end)(`500 ${caller.message}`);
          return;
        }
        opened = true;
        answerLater(txnr)(`200 OK\n${RELP_OFFERS}`);
      } else if (command === 'close') {
        const answerClose = answerLater(txnr, end);
        work.stopReading();
        void work.drained().then(() => answerClose(''));
        return;
      } else if (command === 'syslog' && opened && !(caller instanceof MLogError)) {
        counters.count('received');
        const answer = answerLater(txnr);
        work.add({ data, receivedAt }, (outcome) => {
          account(door, peer, system, counters, outcome, data);
          // An abandoned message is left unanswered: the client resends it to the next MLog.
          // The UID after OK is RELP's human-readable text (RSP-CODE SP HUMANMSG); omrelp reads only the code.
          if (outcome.kind === 'stored') answer(`200 OK ${outcome.uid}`);
          else if (outcome.kind === 'refused') {
            answer(`500 ${outcome.reason}`);
            if (outcome.closeConnection) end();
          }
        });
      } else {
        const reason = command === 'syslog' ? 'The RELP session is not open; send "open" first.' : `The RELP command "${command}" is not supported; MLog offers commands=syslog.`;
        answerLater(txnr)(`500 ${reason}`);
      }
    }
  });
  socket.on('end', () => end());
  return { work, finish, socket };
}

/** Listens on `port` (0: any) for one syslog door; resolves once it accepts connections. */
export async function listenSyslog(door: SyslogDoor, kind: SyslogDoorKind, options: { host: string; port: number; tls?: SyslogTlsFiles }): Promise<SyslogListening> {
  const open = new Set<OpenConnection>();
  let closing = false;
  const gauge = door.metrics.syslogOpenConnections;

  const accept = (socket: Socket, credentials: PeerCredentials | undefined) => {
    const peer: SyslogPeer = { door: kind, sourceAddress: socket.remoteAddress ?? '', ...(credentials === undefined ? {} : { credentials }) };
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    if (closing) {
      socket.destroy();
      return;
    }
    socket.pause();
    gauge.inc({ door: kind });
    socket.once('close', () => gauge.dec({ door: kind }));
    door.identify(peer).then(
      (caller) => {
        door.metrics.syslogConnections.inc({ door: kind, system: caller.system.code });
        door.connectionAccepted(caller);
        const connection = kind === 'relp' ? serveRelp(door, socket, peer, caller) : serveSyslog(door, socket, peer, caller);
        open.add(connection);
        socket.once('close', () => {
          connection.work.settle();
          open.delete(connection);
        });
        if (closing) void connection.finish();
        else socket.resume();
      },
      (error: unknown) => {
        const refusal = error instanceof MLogError ? error : undefined;
        const status = refusal?.status ?? 500;
        // Only refusals (4xx) are recorded; storage unavailable (the registry could not be read) is the sender's cue to retry.
        if (status >= 400 && status < 500) door.recordRefusal(peer, { status, reason: refusal?.message ?? '', ...(refusal?.system === undefined ? {} : { system: refusal.system }) });
        door.logger.info('syslog connection refused', { door: kind, status, sourceAddress: peer.sourceAddress, reason: refusal?.message ?? (error as Error).message });
        if (kind === 'relp' && refusal !== undefined) {
          // RELP can carry the reason: the answer to "open" says it, then the connection ends.
          const connection = serveRelp(door, socket, peer, refusal);
          open.add(connection);
          socket.once('close', () => open.delete(connection));
          socket.resume();
        } else socket.destroy();
      },
    );
  };

  let server: Server;
  if (options.tls === undefined) {
    server = createNetServer({ allowHalfOpen: true }, (socket) => accept(socket, undefined));
  } else {
    const tls = options.tls;
    server = createTlsServer(
      {
        allowHalfOpen: true,
        cert: readFileSync(tls.certPath),
        key: readFileSync(tls.keyPath),
        ca: readFileSync(tls.clientCaPath),
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
        handshakeTimeout: tls.handshakeTimeoutMs,
      },
      (socket: TLSSocket) => {
        // The client certificate is read once per connection: it must not change during one.
        socket.disableRenegotiation();
        accept(socket, credentialsOf(socket));
      },
    );
    server.on('tlsClientError', (_error, socket) => socket.destroy());
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  door.logger.info('syslog listener started', { door: DOOR_NAMES[kind], port });
  return {
    door: kind,
    port,
    async close(graceMs: number) {
      closing = true;
      door.shutdown(graceMs);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const force = setTimeout(() => {
        for (const connection of open) connection.socket.destroy();
      }, graceMs + 1000);
      force.unref();
      await Promise.all([...open].map((connection) => connection.finish()));
      await stopped;
      clearTimeout(force);
    },
  };
}

import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto';
import type { JsonObject } from '../json/json-object-parser.js';
import { canonicalJson } from './event-hash.js';
import type { CheckedEvent } from './event-check.js';
import type { LogLeaf } from './evidence-log-entry.js';
import { CHUNK_SIZE } from './leaf-chunk.js';
import { leafColumns, LogLeaves, type ColumnLeafChunk, type LeafColumns } from './leaf-columns.js';
import { MerkleFrontier } from './merkle.js';
import { GENESIS_PREVIOUS } from './chain-entry.js';

/**
 * `mlog verify` as pure functions: given MLog's chain of signed entries, the leaves of every log and
 * the stored events, find every event modified, missing or added, every chain entry or checkpoint
 * that does not verify, and every stored client signature that no longer verifies. Reads nothing
 * itself: the caller hands it the records (src/storage/elasticsearch-evidence-reader.ts does, from
 * Elasticsearch), so it can be tested on hand-built data.
 */

/** A chain entry as read: its document id (its seq) and the compact JWS MLog signed. */
export interface ChainRecord {
  /** The document id, which MLog makes the entry's seq. */
  id: string;
  jws: string;
}

/** Leaves of one log from `first` on, as persisted in mlog_evidence_leaves (src/evidence/leaf-chunk.ts), with the document id. */
export interface StoredLeafChunk {
  id: string;
  log: string;
  first: number;
  leaves: LogLeaf[];
  /** Root of the chunk's leaves, when the chunk is full. */
  root?: string;
}

/** Where a stored client signature no longer verifies: a sentence, or undefined when it holds. */
export type SignatureCheck = (signed: NonNullable<CheckedEvent['signed']>) => Promise<string | undefined>;

export const FINDING_KINDS = ['modified', 'missing', 'added', 'checkpoint', 'signature'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One thing that does not hold, naming what it is about. */
export interface Finding {
  kind: FindingKind;
  message: string;
  index?: string;
  id?: string;
  uid?: string;
  log?: string;
  position?: number;
  seq?: number;
}

/** What part of the record a run checks: every event, or one IS's, or whole months. */
export interface VerifyScope {
  system?: string;
  /** "yyyy.MM", inclusive: months of @received (a log leaf names its month, not its time). */
  fromMonth?: string;
  toMonth?: string;
}

export interface LogSummary {
  log: string;
  leaves: number;
  checkpointed: number;
  checkpoints: number;
  final: boolean;
}

export interface VerifyReport {
  ok: boolean;
  scope: VerifyScope;
  chain: { entries: number; checkpoints: number; tombstones: number; head?: number };
  logs: LogSummary[];
  events: {
    scanned: number;
    verified: number;
    signatures_verified: number;
    not_yet_checkpointed: number;
    /** Leaves of events in indices a tombstone names (deleted by retention). */
    pruned_by_retention: number;
  };
  counts: Record<FindingKind, number>;
  findings: Finding[];
}

export interface VerifyInput {
  chain: AsyncIterable<ChainRecord>;
  /** Every leaf chunk: its leaves as objects, or as columns already hashed (by worker threads, leaf-columns.ts). */
  leafChunks: AsyncIterable<StoredLeafChunk | ColumnLeafChunk>;
  /** Pages of stored events in scope, each checked by checkStoredEvent (event-check.ts). */
  events: AsyncIterable<CheckedEvent[]>;
  /** The keys MLog's chain entries may be signed with, by RFC 7638 thumbprint. */
  keys: TrustedKeys;
  scope?: VerifyScope;
  checkSignature?: SignatureCheck;
  onEvents?: (scanned: number) => void;
  /** Stop listing findings after this many (they are still counted); default 10,000. */
  maxFindings?: number;
}

interface Checkpoint {
  seq: number;
  log: string;
  size: number;
  root: string;
  final: boolean;
}

interface ChainState {
  checkpointsByLog: Map<string, Checkpoint[]>;
  tombstonedIndices: Set<string>;
  entries: number;
  checkpoints: number;
  tombstones: number;
  head?: number;
}

class Findings {
  readonly list: Finding[] = [];
  readonly counts: Record<FindingKind, number> = { modified: 0, missing: 0, added: 0, checkpoint: 0, signature: 0 };
  constructor(private readonly max: number) {}
  add(finding: Finding): void {
    this.counts[finding.kind] += 1;
    if (this.list.length < this.max) this.list.push(finding);
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function decodeJson(segment: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** Keys a verifier trusts, by RFC 7638 thumbprint (several when MLog's key was rotated). */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** Whether a compact JWS verifies with the trusted key its `kid` names (EdDSA or ES256); its payload when it decodes. */
export function verifyMlogJws(jws: string, keys: TrustedKeys): { payload?: JsonObject; problem?: string } {
  const parts = jws.split('.');
  if (parts.length !== 3) return { problem: 'it is not a compact JWS (three base64url parts joined by dots)' };
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const header = decodeJson(headerPart);
  const payload = decodeJson(payloadPart);
  if (header === undefined || payload === undefined) return { problem: 'its header or payload is not a JSON object' };
  const key = typeof header.kid === 'string' ? keys.get(header.kid) : undefined;
  if (key === undefined) return { payload, problem: `it is signed with key ${JSON.stringify(header.kid ?? null)}, which is not a trusted key of MLog (${[...keys.keys()].join(', ')})` };
  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  let valid = false;
  try {
    if (header.alg === 'EdDSA' || header.alg === 'Ed25519') valid = verifySignature(null, data, key, signature);
    else if (header.alg === 'ES256') valid = verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    else return { payload, problem: `its algorithm ${JSON.stringify(header.alg ?? null)} is not EdDSA or ES256` };
  } catch {
    valid = false;
  }
  return valid ? { payload } : { payload, problem: `its signature does not verify with MLog's key ${String(header.kid)}` };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A chain entry whose signature does not verify: reported when it concerns the scope of the run. */
interface UnverifiedEntry {
  seq: number;
  problem: string;
  payload?: JsonObject;
}

/**
 * Reads the chain: every link (seq without gap, `previous` = hash of the entry before) is checked
 * whatever the scope; checkpoints and tombstones count only when their signature verifies, and the
 * entries that do not are returned for the caller to report when they concern its scope.
 */
async function readChain(entries: AsyncIterable<ChainRecord>, keys: TrustedKeys, findings: Findings): Promise<ChainState & { unverified: UnverifiedEntry[] }> {
  const state: ChainState & { unverified: UnverifiedEntry[] } = { checkpointsByLog: new Map(), tombstonedIndices: new Set(), entries: 0, checkpoints: 0, tombstones: 0, unverified: [] };
  const bySeq = new Map<number, { entry: ChainRecord; payload?: JsonObject; problem?: string }>();
  for await (const entry of entries) {
    state.entries += 1;
    const seq = Number(entry.id);
    if (!Number.isSafeInteger(seq) || seq < 0) {
      findings.add({ kind: 'checkpoint', message: `The chain holds a document "${entry.id.slice(0, 80)}" whose id is not a sequence number.` });
      continue;
    }
    bySeq.set(seq, { entry, ...verifyMlogJws(entry.jws, keys) });
  }
  if (bySeq.size === 0) return state;
  const head = Math.max(...bySeq.keys());
  state.head = head;
  let previousPayload: JsonObject | undefined;
  let previousSeq = -1;
  for (let seq = 0; seq <= head; seq++) {
    const read = bySeq.get(seq);
    if (read === undefined) {
      findings.add({ kind: 'checkpoint', seq, message: `Chain entry ${seq} is missing: the chain runs to ${head} with no entry ${seq}.` });
      previousPayload = undefined;
      continue;
    }
    const { payload, problem } = read;
    if (payload === undefined) {
      findings.add({ kind: 'checkpoint', seq, message: `Chain entry ${seq} does not verify: ${problem ?? 'its payload does not decode'}.` });
      previousPayload = undefined;
      continue;
    }
    if (payload.seq !== seq) {
      findings.add({ kind: 'checkpoint', seq, message: `Chain entry ${seq} is stored under id ${seq} but its signed payload says seq ${JSON.stringify(payload.seq ?? null)}.` });
    }
    const expectedPrevious = seq === 0 ? GENESIS_PREVIOUS : previousPayload === undefined ? undefined : sha256Hex(canonicalJson(previousPayload));
    if (expectedPrevious !== undefined && payload.previous !== expectedPrevious) {
      findings.add({
        kind: 'checkpoint',
        seq,
        message: `Chain entry ${seq} breaks the chain: its "previous" is ${JSON.stringify(payload.previous ?? null)}, but entry ${previousSeq} hashes to ${expectedPrevious}.`,
      });
    }
    previousPayload = payload;
    previousSeq = seq;
    if (problem !== undefined) {
      state.unverified.push({ seq, problem, payload });
      continue;
    }
    if (payload.kind === 'checkpoint') {
      const { log, size, root } = payload;
      if (typeof log !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || typeof root !== 'string' || !HEX64.test(root)) {
        findings.add({ kind: 'checkpoint', seq, message: `Checkpoint ${seq} lacks a log, a whole-number size or a hex root.` });
        continue;
      }
      state.checkpoints += 1;
      const list = state.checkpointsByLog.get(log) ?? [];
      list.push({ seq, log, size, root, final: payload.final === true });
      state.checkpointsByLog.set(log, list);
    } else if (payload.kind === 'tombstone') {
      state.tombstones += 1;
      if (typeof payload.index === 'string') state.tombstonedIndices.add(payload.index);
    } else {
      findings.add({ kind: 'checkpoint', seq, message: `Chain entry ${seq} is of unknown kind ${JSON.stringify(payload.kind ?? null)}.` });
    }
  }
  return state;
}

interface LogState {
  log: string;
  leaves: LogLeaves;
  /** Size of the last checkpoint whose root matched (positions below it are proven). */
  checkpointed: number;
  checkpoints: number;
  final: boolean;
  /** 1 where a stored event was found that matches its leaf. */
  claimed: Uint8Array;
}

async function readLogs(chunks: AsyncIterable<StoredLeafChunk | ColumnLeafChunk>, chain: ChainState, findings: Findings): Promise<Map<string, LogState>> {
  const chunksByLog = new Map<string, ColumnLeafChunk[]>();
  for await (const chunk of chunks) {
    const list = chunksByLog.get(chunk.log) ?? [];
    list.push('columns' in chunk ? chunk : { id: chunk.id, log: chunk.log, first: chunk.first, ...(chunk.root === undefined ? {} : { root: chunk.root }), columns: leafColumns(chunk.leaves) });
    chunksByLog.set(chunk.log, list);
  }
  const logs = new Map<string, LogState>();
  const names = new Set([...chunksByLog.keys(), ...chain.checkpointsByLog.keys()]);
  for (const log of names) {
    const chunks = (chunksByLog.get(log) ?? []).sort((a, b) => a.first - b.first);
    const taken: LeafColumns[] = [];
    let size = 0;
    /** Root of each full chunk taken into the log, by its first position. */
    const fullChunkRoots = new Map<number, Buffer>();
    for (const chunk of chunks) {
      if (chunk.first !== size) {
        findings.add({
          kind: 'checkpoint',
          log,
          position: Math.min(chunk.first, size),
          message:
            chunk.first > size
              ? `Log ${log} has no leaves for positions ${size} to ${chunk.first - 1} (its leaf chunk ${chunk.id} starts at ${chunk.first}).`
              : `Log ${log} has overlapping leaf chunks: ${chunk.id} starts at ${chunk.first}, inside the leaves before it.`,
        });
        if (chunk.first < size) continue;
        break;
      }
      const hashed = chunk.columns;
      if (chunk.root !== undefined && hashed.root !== chunk.root) {
        findings.add({ kind: 'checkpoint', log, position: chunk.first, message: `Leaf chunk ${chunk.id} of log ${log}: its stored root is not the root of its leaves.` });
      }
      // A full chunk at its place is a perfect subtree: the log's tree takes its root whole.
      if (hashed.count === CHUNK_SIZE && chunk.first % CHUNK_SIZE === 0) fullChunkRoots.set(chunk.first, Buffer.from(hashed.root, 'hex'));
      taken.push(hashed);
      size += hashed.count;
    }
    const leaves = new LogLeaves(taken);
    const checkpoints = (chain.checkpointsByLog.get(log) ?? []).sort((a, b) => a.seq - b.seq);
    const state: LogState = { log, leaves, checkpointed: 0, checkpoints: checkpoints.length, final: false, claimed: new Uint8Array(leaves.count) };
    const frontier = new MerkleFrontier();
    let previous: Checkpoint | undefined;
    for (const checkpoint of checkpoints) {
      if (previous?.final === true) {
        findings.add({ kind: 'checkpoint', seq: checkpoint.seq, log, message: `Checkpoint ${checkpoint.seq} of log ${log} follows its final checkpoint ${previous.seq}.` });
      }
      if (previous !== undefined && checkpoint.size < previous.size) {
        findings.add({
          kind: 'checkpoint',
          seq: checkpoint.seq,
          log,
          message: `Checkpoint ${checkpoint.seq} of log ${log} has ${checkpoint.size} leaves, fewer than the ${previous.size} of checkpoint ${previous.seq}: a log only grows.`,
        });
        previous = checkpoint;
        continue;
      }
      previous = checkpoint;
      if (checkpoint.size > leaves.count) {
        findings.add({
          kind: 'checkpoint',
          seq: checkpoint.seq,
          log,
          message: `Checkpoint ${checkpoint.seq} of log ${log} covers ${checkpoint.size} leaves, but only ${leaves.count} are stored: its root cannot be rebuilt.`,
        });
        continue;
      }
      while (frontier.size < checkpoint.size) {
        const whole = frontier.size + CHUNK_SIZE <= checkpoint.size ? fullChunkRoots.get(frontier.size) : undefined;
        if (whole !== undefined) frontier.appendSubtree(whole, CHUNK_SIZE);
        else frontier.append(leaves.leafHash(frontier.size));
      }
      const root = frontier.root().toString('hex');
      if (root !== checkpoint.root) {
        findings.add({
          kind: 'checkpoint',
          seq: checkpoint.seq,
          log,
          message: `Checkpoint ${checkpoint.seq} of log ${log} signs root ${checkpoint.root} for ${checkpoint.size} leaves, but the stored leaves give ${root}.`,
        });
        continue;
      }
      // Every checkpoint is rebuilt from the same leaves, so a later matching one extends every earlier one.
      state.checkpointed = checkpoint.size;
      state.final = checkpoint.final;
    }
    logs.set(log, state);
  }
  return logs;
}

function inScope(leaf: { is: string; month: string }, scope: VerifyScope): boolean {
  if (scope.system !== undefined && leaf.is !== scope.system) return false;
  if (scope.fromMonth !== undefined && leaf.month < scope.fromMonth) return false;
  if (scope.toMonth !== undefined && leaf.month > scope.toMonth) return false;
  return true;
}

function someEventInScope(leaves: LogLeaves, scope: VerifyScope): boolean {
  for (let position = 0; position < leaves.count; position++) if (leaves.isEvent(position) && leaves.inScope(position, scope)) return true;
  return false;
}

function scoped(scope: VerifyScope): boolean {
  return scope.system !== undefined || scope.fromMonth !== undefined || scope.toMonth !== undefined;
}

/**
 * A chain entry whose signature does not verify is a finding when it concerns the run: always with
 * --all; in a narrowed run, a checkpoint of a log holding leaves in scope or a tombstone of an index
 * in scope (other entries may be signed by keys this run was not given, such as another deployment's
 * or a retired key's). Its link in the chain is checked whatever the scope.
 */
function reportUnverifiedEntries(unverified: readonly UnverifiedEntry[], logs: ReadonlyMap<string, LogState>, scope: VerifyScope, findings: Findings): void {
  for (const entry of unverified) {
    const payload = entry.payload ?? {};
    let concerns = !scoped(scope);
    if (!concerns && payload.kind === 'checkpoint' && typeof payload.log === 'string') {
      const log = logs.get(payload.log);
      concerns = log !== undefined && someEventInScope(log.leaves, scope);
    } else if (!concerns && payload.kind === 'tombstone') {
      concerns = inScope({ is: String(payload.is), month: String(payload.month) }, scope);
    } else if (!concerns) concerns = true;
    if (concerns) findings.add({ kind: 'checkpoint', seq: entry.seq, ...(typeof payload.log === 'string' ? { log: payload.log } : {}), message: `Chain entry ${entry.seq} does not verify: ${entry.problem}.` });
  }
}

function describeEvent(event: CheckedEvent): Pick<Finding, 'index' | 'id' | 'uid' | 'log' | 'position'> {
  return {
    index: event.index,
    id: event.id,
    ...(event.uid === undefined ? {} : { uid: event.uid }),
    ...(event.log === undefined ? {} : { log: event.log }),
    ...(event.position === undefined ? {} : { position: event.position }),
  };
}

type Settled<T> = { value: T } | { error: unknown };

async function settled<T>(check: Promise<Settled<T>>): Promise<T> {
  const outcome = await check;
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

/**
 * The client signatures of a page's events whose `@hash` holds (the others are not checked), all
 * started at once so that they run together on the thread pool; each is awaited in its event's turn,
 * so the findings keep their order.
 */
function startSignatureChecks(page: readonly CheckedEvent[], check: SignatureCheck | undefined): Map<number, Promise<Settled<string | undefined>>> {
  const started = new Map<number, Promise<Settled<string | undefined>>>();
  if (check === undefined) return started;
  page.forEach((hit, i) => {
    if (hit.signed === undefined || hit.log === undefined || hit.position === undefined || hit.hash === undefined || !hit.hashHolds) return;
    started.set(
      i,
      check(hit.signed).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
    );
  });
  return started;
}

/**
 * Checks the chain, rebuilds every log and checks every checkpoint against it, then scans the events
 * and reports each one modified, added or missing, and each client signature that no longer
 * verifies. `ok` is true only when there is no finding at all.
 */
export async function verifyEvidence(input: VerifyInput): Promise<VerifyReport> {
  const scope = input.scope ?? {};
  const findings = new Findings(input.maxFindings ?? 10_000);
  const chain = await readChain(input.chain, input.keys, findings);
  const logs = await readLogs(input.leafChunks, chain, findings);
  reportUnverifiedEntries(chain.unverified, logs, scope, findings);
  const events = { scanned: 0, verified: 0, signatures_verified: 0, not_yet_checkpointed: 0, pruned_by_retention: 0 };

  for await (const page of input.events) {
    const signatures = startSignatureChecks(page, input.checkSignature);
    for (const [i, hit] of page.entries()) {
      events.scanned += 1;
      const storedHash = hit.hash;
      const log = hit.log;
      const position = hit.position;
      if (log === undefined || position === undefined) {
        findings.add({ kind: 'added', ...describeEvent(hit), message: 'The event has no place in any evidence log (no @log and @position): MLog did not register it.' });
        continue;
      }
      if (storedHash === undefined || !hit.hashHolds) {
        findings.add({
          kind: 'modified',
          ...describeEvent(hit),
          message: storedHash !== undefined ? 'The event as stored no longer has the hash in its @hash: it was changed after MLog stored it.' : 'The event has no @hash.',
        });
        // The event is there, changed: its position is not missing.
        const state = logs.get(log);
        if (state !== undefined && position < state.claimed.length) state.claimed[position] = 1;
        continue;
      }
      const signature = signatures.get(i);
      if (signature !== undefined) {
        const problem = await settled(signature);
        if (problem === undefined) events.signatures_verified += 1;
        else findings.add({ kind: 'signature', ...describeEvent(hit), message: `The stored client signature no longer verifies: ${problem}` });
      }
      const state = logs.get(log);
      if (state === undefined || position >= state.leaves.count) {
        if (state !== undefined && position < state.checkpointed) {
          findings.add({ kind: 'added', ...describeEvent(hit), message: `Log ${log} has no leaf at position ${position}, which its checkpoints cover.` });
        } else events.not_yet_checkpointed += 1;
        continue;
      }
      const leaves = state.leaves;
      if (!leaves.isEvent(position)) {
        findings.add({ kind: 'added', ...describeEvent(hit), message: `Position ${position} of log ${log} holds a refused write, not this event.` });
        continue;
      }
      const expectedIndex = leaves.index(position);
      if (hit.index !== expectedIndex) {
        findings.add({ kind: 'added', ...describeEvent(hit), message: `Position ${position} of log ${log} belongs to an event of ${expectedIndex}, not of ${hit.index}.` });
        continue;
      }
      if (!leaves.idIs(position, hit.id)) {
        findings.add({ kind: 'added', ...describeEvent(hit), message: `Position ${position} of log ${log} belongs to event ${leaves.id(position)}, not to this one.` });
        continue;
      }
      if (state.claimed[position] === 1) {
        findings.add({ kind: 'added', ...describeEvent(hit), message: `Another document already stands for event ${hit.id} at position ${position} of log ${log}: this one is a copy.` });
        continue;
      }
      if (!leaves.hashIs(position, storedHash)) {
        state.claimed[position] = 1;
        findings.add({ kind: 'modified', ...describeEvent(hit), message: `The event's @hash is not the hash its log recorded at position ${position}: it was changed and re-hashed after MLog stored it.` });
        continue;
      }
      state.claimed[position] = 1;
      if (position < state.checkpointed) events.verified += 1;
      else events.not_yet_checkpointed += 1;
    }
    input.onEvents?.(events.scanned);
  }

  for (const state of logs.values()) {
    const leaves = state.leaves;
    const limit = Math.min(state.checkpointed, leaves.count);
    for (let position = 0; position < limit; position++) {
      if (state.claimed[position] === 1) continue;
      if (!leaves.isEvent(position) || !leaves.inScope(position, scope)) continue;
      const index = leaves.index(position);
      if (chain.tombstonedIndices.has(index)) {
        events.pruned_by_retention += 1;
        continue;
      }
      findings.add({ kind: 'missing', index, log: state.log, position, message: `The event at position ${position} of log ${state.log} (hash ${leaves.hash(position)}) is not in ${index}, and no tombstone names that index.` });
    }
  }

  const logSummaries = [...logs.values()]
    .map((state) => ({ log: state.log, leaves: state.leaves.count, checkpointed: state.checkpointed, checkpoints: state.checkpoints, final: state.final }))
    .sort((a, b) => a.log.localeCompare(b.log));
  const total = FINDING_KINDS.reduce((sum, kind) => sum + findings.counts[kind], 0);
  return {
    ok: total === 0,
    scope,
    chain: { entries: chain.entries, checkpoints: chain.checkpoints, tombstones: chain.tombstones, ...(chain.head === undefined ? {} : { head: chain.head }) },
    logs: logSummaries,
    events,
    counts: findings.counts,
    findings: findings.list,
  };
}

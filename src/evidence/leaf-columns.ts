import { hashLeaf, type LogLeaf } from './evidence-log-entry.js';
import { CHUNK_SIZE, leavesOf } from './leaf-chunk.js';
import { MerkleFrontier } from './merkle.js';

/**
 * The leaves of a log as `mlog verify` holds them: columns (typed arrays, one text of every id and
 * `hash`, a table of the few places an event lives) rather than one object per leaf, so that a log
 * of millions of leaves is a handful of objects for the garbage collector, and a page of leaf chunks
 * parsed in a worker thread travels back to the verifier's thread as buffers moved, not objects
 * copied.
 */

/** Per leaf: an event leaf (else a refused write, or anything else). */
const EVENT = 1;
/** Per leaf: its `id` is a string (else the text holds String(id), which matches no document id). */
const ID_TEXT = 2;
/** Per leaf: its `hash` is a string (else the text holds String(hash), which matches no `@hash`). */
const HASH_TEXT = 4;

/** The leaves of one leaf chunk, or of a whole log, as columns. */
export interface LeafColumns {
  count: number;
  /** Per leaf: EVENT, ID_TEXT, HASH_TEXT bits. */
  flags: Uint8Array;
  /** Per event leaf: its entry in `places`. */
  placeOf: Uint32Array;
  /** The distinct IS code and month ("yyyy.MM") of the event leaves. */
  places: [is: string, month: string][];
  /** Every event leaf's id then hash, one after the other (empty for other leaves). */
  text: string;
  /** Where each id and each hash ends in `text`: leaf i's id ends at ends[2i], its hash at ends[2i + 1]. */
  ends: Uint32Array;
  /** MTH({leaf}) of each leaf, in order: 32 bytes each. */
  hashes: Uint8Array;
  /** Lowercase hex root of the leaves (the empty tree's for none). */
  root: string;
}

/** A leaf chunk as read from mlog_evidence_leaves, its leaves as columns (parsed and hashed in a worker thread). */
export interface ColumnLeafChunk {
  id: string;
  log: string;
  first: number;
  /** The stored root, when the chunk is full. */
  root?: string;
  columns: LeafColumns;
}

/** The leaves given as columns, each hashed (RFC 9162 leaf hash of its RFC 8785 form), and their root. */
export function leafColumns(leaves: readonly LogLeaf[]): LeafColumns {
  const count = leaves.length;
  const flags = new Uint8Array(new ArrayBuffer(count));
  const placeOf = new Uint32Array(new ArrayBuffer(count * 4));
  const ends = new Uint32Array(new ArrayBuffer(count * 8));
  const hashes = new Uint8Array(new ArrayBuffer(count * 32));
  const places: [string, string][] = [];
  const placeEntries = new Map<string, number>();
  const parts: string[] = [];
  let length = 0;
  let lastPlace = -1;
  let lastIs = '';
  let lastMonth = '';
  const frontier = new MerkleFrontier();
  for (let i = 0; i < count; i++) {
    const leaf = leaves[i] as LogLeaf;
    const hash = hashLeaf(leaf);
    hashes.set(hash, i * 32);
    frontier.append(hash);
    if (leaf.kind === 'event') {
      let bits = EVENT;
      const id: unknown = leaf.id;
      const eventHash: unknown = leaf.hash;
      const idText = typeof id === 'string' ? ((bits |= ID_TEXT), id) : String(id);
      const hashText = typeof eventHash === 'string' ? ((bits |= HASH_TEXT), eventHash) : String(eventHash);
      flags[i] = bits;
      parts.push(idText, hashText);
      length += idText.length;
      ends[2 * i] = length;
      length += hashText.length;
      ends[2 * i + 1] = length;
      const is = String(leaf.is);
      const month = String(leaf.month);
      // Leaves in a row are mostly of one IS and month: the previous leaf's place is tried first.
      if (lastPlace < 0 || is !== lastIs || month !== lastMonth) {
        const key = `${is}\u0000${month}`;
        let place = placeEntries.get(key);
        if (place === undefined) {
          place = places.length;
          places.push([is, month]);
          placeEntries.set(key, place);
        }
        lastPlace = place;
        lastIs = is;
        lastMonth = month;
      }
      placeOf[i] = lastPlace;
    } else {
      ends[2 * i] = length;
      ends[2 * i + 1] = length;
    }
  }
  return { count, flags, placeOf, places, text: parts.join(''), ends, hashes, root: frontier.root().toString('hex') };
}

/**
 * The leaf chunks of a search answer over mlog_evidence_leaves (its raw JSON), in hit order, each
 * with its leaves as columns: the one parse of a leaf page, done in a worker thread.
 */
export function leafColumnsPage(text: string): ColumnLeafChunk[] {
  const answer = JSON.parse(text) as { hits?: { hits?: { _id?: string; _source?: { log?: unknown; first?: unknown; leaves?: unknown; root?: unknown } }[] } };
  return (answer.hits?.hits ?? []).map((hit) => {
    const source = hit._source ?? {};
    const chunk: ColumnLeafChunk = {
      id: hit._id ?? '',
      log: typeof source.log === 'string' ? source.log : '',
      first: typeof source.first === 'number' ? source.first : -1,
      columns: leafColumns(leavesOf(source)),
    };
    if (typeof source.root === 'string') chunk.root = source.root;
    return chunk;
  });
}

/** The buffers of a chunk's columns, to move them to another thread rather than copy them. */
export function columnBuffers(chunk: ColumnLeafChunk): ArrayBuffer[] {
  const { flags, placeOf, ends, hashes } = chunk.columns;
  return [flags.buffer as ArrayBuffer, placeOf.buffer as ArrayBuffer, ends.buffer as ArrayBuffer, hashes.buffer as ArrayBuffer];
}

/** A leaf chunk's columns as a log reads them: where it starts in the log, and the event index of each of its places. */
interface PlacedColumns extends LeafColumns {
  start: number;
  indices: string[];
}

/**
 * A log's leaves, read by position: the columns of its chunks in position order, kept as they came
 * (nothing copied or joined); a position finds its chunk by arithmetic when every chunk but the last
 * is full, else by a binary search.
 */
export class LogLeaves {
  readonly count: number;
  private readonly chunks: PlacedColumns[];
  /** Whether chunk k holds positions [k × CHUNK_SIZE, (k + 1) × CHUNK_SIZE). */
  private readonly aligned: boolean;

  constructor(chunks: readonly LeafColumns[]) {
    let start = 0;
    this.chunks = chunks
      .filter((chunk) => chunk.count > 0)
      .map((chunk) => {
        const placed: PlacedColumns = { ...chunk, start, indices: chunk.places.map(([is, month]) => `mlog-${is}-${month}`) };
        start += chunk.count;
        return placed;
      });
    this.count = start;
    this.aligned = this.chunks.every((chunk, k) => chunk.start === k * CHUNK_SIZE && (chunk.count === CHUNK_SIZE || k === this.chunks.length - 1));
  }

  /** The chunk holding `position` (0 ≤ position < count). */
  private chunkOf(position: number): PlacedColumns {
    if (this.aligned) return this.chunks[Math.floor(position / CHUNK_SIZE)] as PlacedColumns;
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.chunks[middle] as PlacedColumns).start <= position) low = middle;
      else high = middle - 1;
    }
    return this.chunks[low] as PlacedColumns;
  }

  /** Whether the leaf at `position` (< count) is an event's (else a refused write's). */
  isEvent(position: number): boolean {
    const chunk = this.chunkOf(position);
    return ((chunk.flags[position - chunk.start] as number) & EVENT) !== 0;
  }

  /** The event index an event leaf names: "mlog-<is>-<month>". */
  index(position: number): string {
    const chunk = this.chunkOf(position);
    return chunk.indices[chunk.placeOf[position - chunk.start] as number] as string;
  }

  /** Whether an event leaf lies in the scope's IS and months. */
  inScope(position: number, scope: { system?: string; fromMonth?: string; toMonth?: string }): boolean {
    const chunk = this.chunkOf(position);
    const [is, month] = chunk.places[chunk.placeOf[position - chunk.start] as number] as [string, string];
    if (scope.system !== undefined && is !== scope.system) return false;
    if (scope.fromMonth !== undefined && month < scope.fromMonth) return false;
    if (scope.toMonth !== undefined && month > scope.toMonth) return false;
    return true;
  }

  /** An event leaf's id, as text. */
  id(position: number): string {
    const chunk = this.chunkOf(position);
    const i = position - chunk.start;
    return chunk.text.slice(i === 0 ? 0 : chunk.ends[2 * i - 1], chunk.ends[2 * i]);
  }

  /** Whether an event leaf's id is the string `id` (compared where it stands, not copied out). */
  idIs(position: number, id: string): boolean {
    const chunk = this.chunkOf(position);
    const i = position - chunk.start;
    if (((chunk.flags[i] as number) & ID_TEXT) === 0) return false;
    const start = i === 0 ? 0 : (chunk.ends[2 * i - 1] as number);
    return (chunk.ends[2 * i] as number) - start === id.length && chunk.text.startsWith(id, start);
  }

  /** An event leaf's hash (the event's `@hash` when it was placed), as text. */
  hash(position: number): string {
    const chunk = this.chunkOf(position);
    const i = position - chunk.start;
    return chunk.text.slice(chunk.ends[2 * i], chunk.ends[2 * i + 1]);
  }

  /** Whether an event leaf's hash is the string `hash`. */
  hashIs(position: number, hash: string): boolean {
    const chunk = this.chunkOf(position);
    const i = position - chunk.start;
    if (((chunk.flags[i] as number) & HASH_TEXT) === 0) return false;
    const start = chunk.ends[2 * i] as number;
    return (chunk.ends[2 * i + 1] as number) - start === hash.length && chunk.text.startsWith(hash, start);
  }

  /** MTH({leaf}) of the leaf at `position`: a view of the column, not a copy. */
  leafHash(position: number): Buffer {
    const chunk = this.chunkOf(position);
    return Buffer.from(chunk.hashes.buffer, chunk.hashes.byteOffset + (position - chunk.start) * 32, 32);
  }
}

/**
 * The keys each object level of a Tetragon export line is read for, by the fast decoder's
 * general walk (fast-walk.ts) and the open-ended parts of its speculative path. A key's id
 * is its index + 1 in its level's set; 0 is a key the level does not read.
 */
import { ENVELOPE_KEYS } from './tetragon-json.ts';
import { INTEGER_ARG_KEYS } from './reference-decoder.ts';
import { decodeString, QUOTE } from './fast-values.ts';

/**
 * The keys one object level reads, as bytes (compared in place for plain keys) and as
 * strings (for keys written with escapes, which are decoded first).
 */
export class KeySet {
  readonly bytes: readonly Uint8Array[];
  /** Byte length of each name. */
  readonly lengths: Int32Array;
  /** The first four bytes of each name of four or more bytes, as a little-endian int32. */
  private readonly heads: Int32Array;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(names: readonly string[]) {
    this.bytes = names.map((n) => new Uint8Array(Buffer.from(n, 'latin1')));
    this.lengths = Int32Array.from(this.bytes, (b) => b.length);
    this.heads = Int32Array.from(this.bytes, (b) => (b.length >= 4 ? Buffer.from(b).readInt32LE(0) : 0));
    this.ids = new Map(names.map((n, k) => [n, k + 1]));
    for (const b of this.bytes) {
      // `plainId` treats a name's bytes as the whole body of a plain string.
      if (b.some((c) => c === QUOTE || c === 0x5c || c < 0x20 || c > 0x7e)) throw new Error('KeySet names must be plain ASCII');
    }
  }

  /**
   * Id of the name the key starting at `ks` (just after its opening quote) spells,
   * unescaped and followed by the closing quote; 0 when it spells none. A name's bytes
   * hold no quote, backslash or control character, so such a key is a valid string ending
   * at `ks + length + 1`: no scan needed. Four bytes compared at once through `dv`.
   */
  plainId(buf: Buffer, dv: DataView, ks: number, end: number): number {
    const lengths = this.lengths;
    for (let k = 0; k < lengths.length; k++) {
      const n = lengths[k]!;
      const q = ks + n;
      if (q >= end || buf[q] !== QUOTE) continue;
      let j = 0;
      if (n >= 4) {
        if (dv.getInt32(ks, true) !== this.heads[k]) continue;
        j = 4;
      }
      const name = this.bytes[k]!;
      while (j < n && name[j] === buf[ks + j]) j++;
      if (j === n) return k + 1;
    }
    return 0;
  }

  /** Id of the escaped key `ks..ke`, decoded, or 0 when the object level does not read it. */
  escapedId(buf: Buffer, ks: number, ke: number): number {
    return this.ids.get(decodeString(buf, ks, ke)) ?? 0;
  }
}

/** A key no level reads. */
export const OTHER_KEY = 0;

// Top level. Ids 4–6 are the envelope keys the reference's `eventTypeOf` passes over.
export const TOP = new KeySet(['process_kprobe', 'node_name', 'time', 'cluster_name', 'node_labels', 'aggregation_info']);
export const TOP_KPROBE = 1;
export const TOP_NODE = 2;
export const TOP_TIME = 3;
/** Read, but not tracked for duplicates: overwriting keeps the last, as JSON.parse does. */
export const TOP_CLUSTER = 4;
/** From this id on, envelope keys whose duplicates cannot change the result. */
export const FIRST_OTHER_ENVELOPE = 4;
// The envelope keys above must be exactly the reference's, or type detection drifts.
if (
  ENVELOPE_KEYS.size !== 5 ||
  !['node_name', 'time', 'cluster_name', 'node_labels', 'aggregation_info'].every((k) => ENVELOPE_KEYS.has(k))
) {
  throw new Error('fast-keys: ENVELOPE_KEYS changed; update the TOP key set');
}

export const KPROBE = new KeySet(['process', 'function_name', 'args', 'return', 'parent']);
export const KP_PROCESS = 1;
export const KP_FUNCTION = 2;
export const KP_ARGS = 3;
export const KP_RETURN = 4;
/** Read only to be skipped (through the span cache); duplicates are harmless, so not tracked. */
export const KP_PARENT = 5;

export const PROCESS = new KeySet(['pod', 'tid', 'refcnt']);
export const PROCESS_POD = 1;
/** Integers that vary among a process's events (its threads, its reference count): holes in its span (fast-span-cache.ts). */
export const PROCESS_TID = 2;
export const PROCESS_REFCNT = 3;

export const POD = new KeySet(['namespace', 'name', 'workload', 'workload_kind', 'pod_labels']);
export const POD_NAMESPACE = 1;
export const POD_NAME = 2;
export const POD_WORKLOAD = 3;
export const POD_WORKLOAD_KIND = 4;
export const POD_LABELS = 5;

/** int_arg, uint_arg, long_arg follow sock_arg and size_arg, in the reference's order (INTEGER_ARG_KEYS). */
export const ARG = new KeySet(['sock_arg', 'size_arg', ...INTEGER_ARG_KEYS]);
export const ARG_SOCK = 1;
export const ARG_SIZE = 2;
/** The id of INTEGER_ARG_KEYS[0]; the others follow. */
export const ARG_FIRST_INTEGER = 3;

export const SOCK = new KeySet(['saddr', 'daddr', 'sport', 'dport', 'cookie']);
export const SOCK_SADDR = 1;
export const SOCK_DADDR = 2;
export const SOCK_SPORT = 3;
export const SOCK_DPORT = 4;
export const SOCK_COOKIE = 5;

export const RETURN = new KeySet(['int_arg']);
export const RETURN_INT = 1;

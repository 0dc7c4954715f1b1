/**
 * The parts of Tetragon's JSON export that kovenant reads, as Tetragon prints them.
 *
 * Encoding follows protobuf's JSON mapping: 64-bit integers (`size_arg`, `long_arg`,
 * `cookie`) are strings, 32-bit integers (`int_arg`, `pid`, `sport`, `dport`) are numbers,
 * and empty fields are omitted. Every field is optional here because the export omits
 * zero values and older Tetragon versions lack newer fields; the decoder validates.
 *
 * A parsed line is not trusted to follow these types: `Unchecked<T>` is what the reference
 * decoder reads it as — T's keys (so a misspelt field is a type error), every value
 * `unknown` until checked.
 */

/** An object parsed from an export line where Tetragon prints a T: its keys, any values. */
export type Unchecked<T> = { readonly [K in keyof T]?: unknown };

export interface TetragonContainer {
  id?: string;
  name?: string;
  image?: { id?: string; name?: string };
  start_time?: string;
  pid?: number;
}

export interface TetragonPod {
  namespace?: string;
  name?: string;
  uid?: string;
  container?: TetragonContainer;
  pod_labels?: Record<string, string>;
  /** Newer Tetragon versions resolve the workload themselves. */
  workload?: string;
  workload_kind?: string;
}

export interface TetragonProcess {
  exec_id?: string;
  pid?: number;
  uid?: number;
  cwd?: string;
  binary?: string;
  arguments?: string;
  flags?: string;
  start_time?: string;
  auid?: number;
  pod?: TetragonPod;
  docker?: string;
  parent_exec_id?: string;
  refcnt?: number;
  /** The thread that triggered the event; varies among a process's events. */
  tid?: number;
  cap?: { permitted?: string[]; effective?: string[]; inheritable?: string[] };
  ns?: Record<string, { inum?: number; is_host?: boolean }>;
}

export interface TetragonSockArg {
  family?: string;
  type?: string;
  protocol?: string;
  saddr?: string;
  daddr?: string;
  sport?: number;
  dport?: number;
  cookie?: string;
  state?: string;
  mark?: number;
  priority?: number;
}

/** Each element of `args` (and `return`) holds exactly one of these keys. */
export interface TetragonKprobeArg {
  sock_arg?: TetragonSockArg;
  size_arg?: string;
  int_arg?: number;
  uint_arg?: number;
  long_arg?: string;
  file_arg?: { path?: string; flags?: string };
  bytes_arg?: string;
  truncated_bytes_arg?: { bytes_arg?: string; orig_size?: string };
  skb_arg?: Record<string, unknown>;
}

export interface TetragonProcessKprobe {
  process?: TetragonProcess;
  parent?: TetragonProcess;
  function_name?: string;
  args?: TetragonKprobeArg[];
  return?: TetragonKprobeArg;
  action?: string;
  policy_name?: string;
  return_action?: string;
  message?: string;
  tags?: string[];
  /** With Tetragon's `--enable-ancestors`: the parent's ancestors, nearest first. */
  ancestors?: TetragonProcess[];
}

/**
 * One exported line. Exactly one key besides the envelope fields names the event type;
 * kovenant decodes `process_kprobe` and counts every other type as skipped.
 */
export interface TetragonExportLine {
  process_kprobe?: TetragonProcessKprobe;
  node_name?: string;
  time?: string;
  cluster_name?: string;
  node_labels?: Record<string, string>;
  aggregation_info?: Record<string, unknown>;
}

/** Keys of an export line that are not the event itself. */
export const ENVELOPE_KEYS: ReadonlySet<string> = new Set<string>([
  'node_name',
  'time',
  'cluster_name',
  'node_labels',
  'aggregation_info',
] satisfies (keyof TetragonExportLine)[]);

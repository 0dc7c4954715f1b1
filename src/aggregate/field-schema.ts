/**
 * The fields of one measurement, in the order of an accumulator's slots: integer
 * fields first, then float fields.
 */
export interface FieldSchema {
  readonly ints: readonly string[];
  readonly floats: readonly string[];
}

export const TCP_FIELDS: FieldSchema = {
  ints: ['bytes_sent', 'bytes_received', 'sends', 'receives', 'connects', 'closes'],
  floats: [],
};

export const IO_FIELDS: FieldSchema = {
  ints: ['bytes_read', 'bytes_written', 'reads', 'writes'],
  floats: [],
};

/** Conntrack flows: origin → reply is "sent", reply → origin "received". */
export const CONNTRACK_FIELDS: FieldSchema = {
  ints: ['bytes_sent', 'bytes_received', 'packets_sent', 'packets_received', 'flows'],
  floats: [],
};

export const CPU_FIELDS: FieldSchema = {
  ints: [],
  floats: ['cpu_seconds', 'cpu_cores'],
};

/** kovenant_source: completeness of the event stream (see src/collectors/source/). */
export const SOURCE_FIELDS: FieldSchema = {
  ints: ['events_read', 'events_rejected', 'events_lost', 'throttles'],
  floats: [],
};

/** kovenant_source with `--tetragon-metrics`: Tetragon's own loss counters too. */
export const SOURCE_FIELDS_WITH_KERNEL: FieldSchema = {
  ints: [...SOURCE_FIELDS.ints, 'kernel_events_lost'],
  floats: [],
};

export const NODE_CPU_FIELDS: FieldSchema = {
  ints: [],
  floats: ['seconds'],
};

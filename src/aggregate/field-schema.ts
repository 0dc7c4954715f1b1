/**
 * The fields of one measurement, in the order of an accumulator's slots: integer
 * fields first, then float fields.
 */
export interface FieldSchema {
  readonly ints: readonly string[];
  readonly floats: readonly string[];
}

/** Each field's slot: its index in the values the aggregator hands out (`slotValues`). */
export type FieldSlots<S extends FieldSchema> = { readonly [F in S['ints'][number] | S['floats'][number]]: number };

/**
 * The slots of a schema's fields, from its lists of names: the increments index values
 * by these (a constant per field, read once, not a lookup per event), so the order of
 * the names is written in one place only.
 */
export function slotsOf<const S extends FieldSchema>(schema: S): FieldSlots<S> {
  const slots: Record<string, number> = {};
  [...schema.ints, ...schema.floats].forEach((name, i) => (slots[name] = i));
  return slots as FieldSlots<S>;
}

export const TCP_FIELDS = {
  ints: ['bytes_sent', 'bytes_received', 'sends', 'receives', 'connects', 'closes'],
  floats: [],
} as const satisfies FieldSchema;
export const TCP_SLOTS = slotsOf(TCP_FIELDS);

export const IO_FIELDS = {
  ints: ['bytes_read', 'bytes_written', 'reads', 'writes'],
  floats: [],
} as const satisfies FieldSchema;
export const IO_SLOTS = slotsOf(IO_FIELDS);

/** Conntrack flows: origin → reply is "sent", reply → origin "received". */
export const CONNTRACK_FIELDS = {
  ints: ['bytes_sent', 'bytes_received', 'packets_sent', 'packets_received', 'flows'],
  floats: [],
} as const satisfies FieldSchema;
export const CONNTRACK_SLOTS = slotsOf(CONNTRACK_FIELDS);

export const CPU_FIELDS = {
  ints: [],
  floats: ['cpu_seconds', 'cpu_cores'],
} as const satisfies FieldSchema;
export const CPU_SLOTS = slotsOf(CPU_FIELDS);

/** kovenant_source: completeness of the event stream (see src/collectors/source/). */
export const SOURCE_FIELDS = {
  ints: ['events_read', 'events_rejected', 'events_lost', 'throttles'],
  floats: [],
} as const satisfies FieldSchema;

/** kovenant_source with `--tetragon-metrics`: Tetragon's own loss counters too. */
export const SOURCE_FIELDS_WITH_KERNEL = {
  ints: [...SOURCE_FIELDS.ints, 'kernel_events_lost'],
  floats: [],
} as const satisfies FieldSchema;
/** The slots of both source schemas: the kernel's field comes after the others. */
export const SOURCE_SLOTS = slotsOf(SOURCE_FIELDS_WITH_KERNEL);

export const NODE_CPU_FIELDS = {
  ints: [],
  floats: ['seconds'],
} as const satisfies FieldSchema;
export const NODE_CPU_SLOTS = slotsOf(NODE_CPU_FIELDS);

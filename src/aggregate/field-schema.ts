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

/** A measurement with integer fields only. */
export function intFields<const I extends readonly string[]>(...ints: I): { readonly ints: I; readonly floats: readonly [] } {
  return { ints, floats: [] };
}

/** A measurement with float fields only. */
export function floatFields<const F extends readonly string[]>(...floats: F): { readonly ints: readonly []; readonly floats: F } {
  return { ints: [], floats };
}

export const TCP_FIELDS = intFields('bytes_sent', 'bytes_received', 'sends', 'receives', 'connects', 'closes');
export const TCP_SLOTS = slotsOf(TCP_FIELDS);

export const IO_FIELDS = intFields('bytes_read', 'bytes_written', 'reads', 'writes');
export const IO_SLOTS = slotsOf(IO_FIELDS);

/** Conntrack flows: origin → reply is "sent", reply → origin "received". */
export const CONNTRACK_FIELDS = intFields('bytes_sent', 'bytes_received', 'packets_sent', 'packets_received', 'flows');
export const CONNTRACK_SLOTS = slotsOf(CONNTRACK_FIELDS);

export const CPU_FIELDS = floatFields('cpu_seconds', 'cpu_cores');
export const CPU_SLOTS = slotsOf(CPU_FIELDS);

/** kovenant_source: completeness of the event stream (see src/collectors/source/). */
export const SOURCE_FIELDS = intFields('events_read', 'events_rejected', 'events_lost', 'throttles');

/** kovenant_source with `--tetragon-metrics`: Tetragon's own loss counters too. */
export const SOURCE_FIELDS_WITH_KERNEL = intFields(...SOURCE_FIELDS.ints, 'kernel_events_lost');
/** The slots of both source schemas: the kernel's field comes after the others. */
export const SOURCE_SLOTS = slotsOf(SOURCE_FIELDS_WITH_KERNEL);

export const NODE_CPU_FIELDS = floatFields('seconds');
export const NODE_CPU_SLOTS = slotsOf(NODE_CPU_FIELDS);

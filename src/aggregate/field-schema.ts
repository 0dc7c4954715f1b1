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

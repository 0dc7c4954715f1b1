/** Each field's slot comes from the schema's own list of names, so increments cannot drift from it. */
import { describe, expect, it } from 'vitest';
import * as fields from '../../src/aggregate/field-schema.ts';
import type { FieldSchema } from '../../src/aggregate/field-schema.ts';

const schemas = Object.entries(fields).filter(([name]) => /_FIELDS(_WITH_KERNEL)?$/.test(name)) as Array<[string, FieldSchema]>;

describe('field slots', () => {
  it('give every field its index among the integer fields, then the float fields', () => {
    expect(schemas.length).toBeGreaterThanOrEqual(7);
    for (const [, schema] of schemas) {
      const slots = fields.slotsOf(schema) as Record<string, number>;
      const names = [...schema.ints, ...schema.floats];
      expect(Object.keys(slots).sort()).toEqual([...names].sort());
      names.forEach((name, i) => expect(slots[name]).toBe(i));
    }
    expect(fields.TCP_SLOTS.closes).toBe(5);
    expect(fields.CPU_SLOTS.cpu_cores).toBe(1);
  });

  it('SOURCE_SLOTS fit both source schemas: the kernel field comes last', () => {
    fields.SOURCE_FIELDS.ints.forEach((name, i) => expect(fields.SOURCE_SLOTS[name]).toBe(i));
    expect(fields.SOURCE_SLOTS.kernel_events_lost).toBe(fields.SOURCE_FIELDS.ints.length);
  });
});

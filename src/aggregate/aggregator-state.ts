/**
 * Everything the aggregator holds, as plain JSON: what a checkpoint stores so that a
 * restarted daemon continues the open windows instead of rewriting them half-full.
 * Watermarks and `closedBefore` are kept too: they decide which later events are late
 * and when windows close, and the restart must decide exactly as the first run did.
 *
 * The zod schemas are the one definition: the types are inferred from them, and the
 * checkpoint (pipeline/checkpoint.ts) validates a saved file with the same schemas, so
 * what is saved and what is accepted cannot drift apart. JSON has no infinities: every
 * `null` below stands for -Infinity.
 *
 * The aggregator and the schedules import only the types from here (`import type`):
 * loading zod costs replay, which keeps no checkpoint, about 80 ms of CPU at start-up.
 */
import * as z from 'zod';

const nullableNumber = z.number().nullable();

/** The window ladder's position (window-ladder.ts). */
const LadderStateSchema = z.object({
  rung: z.number().int().min(0),
  /** A longer length decided on, waiting for a boundary aligned to it. */
  pendingGrow: z.boolean(),
});
export type LadderState = z.infer<typeof LadderStateSchema>;

/** Dynamic windows (dynamic-windows.ts): the schedule of lengths and the controller's state. */
const DynamicWindowsStateSchema = z.object({
  rungs: z.array(z.number().int().positive()).min(1),
  /** The first switch's `fromMs` is null (from -Infinity). */
  switches: z.array(z.object({ fromMs: nullableNumber, lengthMs: z.number().int().positive() })).min(1),
  frontier: nullableNumber,
  ladder: LadderStateSchema,
  /** Windows closed on some node but not yet complete everywhere, with their points so far. */
  closed: z.array(z.object({ start: z.number(), end: z.number(), points: z.number().int().min(0) })),
});

/** The windows' part of the state, as a `WindowSchedule` saves and restores it. */
const WindowsStateSchema = z.object({
  /** Fixed windows: their length; dynamic: the shortest length. */
  windowMs: z.number().int().positive(),
  /** Dynamic windows only. */
  dynamic: DynamicWindowsStateSchema.optional(),
});
export type WindowsState = z.infer<typeof WindowsStateSchema>;

const SlotStateSchema = z.object({
  measurement: z.string(),
  tags: z.record(z.string(), z.string()),
  key: z.string(),
  /** An index into `schemas`. */
  schema: z.number().int().min(0),
  /** In the schema's order: its integer fields, then its float fields. */
  values: z.array(z.number()),
});

export const AggregatorStateSchema = WindowsStateSchema.extend({
  /** Field schemas, referred to by index from the slots. */
  schemas: z.array(z.object({ ints: z.array(z.string()), floats: z.array(z.string()) })),
  nodes: z.array(
    z.object({
      node: z.string(),
      watermark: nullableNumber,
      closedBefore: nullableNumber,
      windows: z.array(z.object({ start: z.number(), slots: z.array(SlotStateSchema) })),
    }),
  ),
});
export type AggregatorState = z.infer<typeof AggregatorStateSchema>;

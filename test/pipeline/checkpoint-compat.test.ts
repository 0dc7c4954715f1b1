/**
 * Checkpoints written by an earlier kovenant still load and continue exactly: the files
 * in saved-checkpoints/ were saved by the aggregator before its windows moved behind one
 * `WindowSchedule` and its state into a zod schema (aggregate/aggregator-state.ts). A
 * restarted daemon must write the same points as one that never stopped.
 */
import { describe, expect, it } from 'vitest';
import { CheckpointFile } from '../../src/pipeline/checkpoint.ts';
import { dynamicRun, feed, fixedRun, type SavedRun } from './saved-checkpoints/scenario.ts';

const saved = (name: string): string => new URL(`./saved-checkpoints/${name}.json`, import.meta.url).pathname;

describe.each([
  ['fixed', fixedRun()],
  ['dynamic', dynamicRun()],
] as Array<[string, SavedRun]>)('a checkpoint of %s windows saved by an earlier version', (name, run) => {
  it('loads, and the restored aggregator writes what an uninterrupted one writes', async () => {
    const checkpoint = await new CheckpointFile(saved(name)).load();
    expect(checkpoint?.position).toMatchObject({ inode: 1234, offset: 5678 });

    const restored = run.aggregator();
    restored.restore(checkpoint!.aggregator);
    const resumed = [...feed(restored, run.after), ...restored.closeAll()];

    const whole = run.aggregator();
    feed(whole, run.before);
    const expected = [...feed(whole, run.after), ...whole.closeAll()];
    expect(resumed.length).toBeGreaterThan(100);
    expect(resumed).toEqual(expected);
  });

  it('is what this version saves at the same point (the format did not change)', async () => {
    const checkpoint = await new CheckpointFile(saved(name)).load();
    const agg = run.aggregator();
    feed(agg, run.before);
    expect(JSON.parse(JSON.stringify(agg.snapshot()))).toEqual(checkpoint!.aggregator);
  });
});

it('the saved runs cover what a checkpoint can hold', async () => {
  const fixed = (await new CheckpointFile(saved('fixed')).load())!.aggregator;
  const dynamic = (await new CheckpointFile(saved('dynamic')).load())!.aggregator;
  for (const state of [fixed, dynamic]) {
    expect(state.nodes.some((n) => n.closedBefore === null)).toBe(true);
    expect(state.schemas.some((s) => s.floats.length > 0)).toBe(true);
  }
  expect(fixed.nodes.some((n) => n.windows.length > 1)).toBe(true);
  expect(fixed.nodes.some((n) => n.windows.some((w) => w.slots.some((s) => s.tags.remote_name === 'other')))).toBe(true);
  expect(dynamic.dynamic?.switches.length).toBeGreaterThan(2);
  expect(dynamic.dynamic?.closed.length).toBeGreaterThan(0);
});

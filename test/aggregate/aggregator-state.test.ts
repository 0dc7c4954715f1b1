/**
 * The aggregator's saved state: its zod schema accepts what the aggregator saves, and
 * the aggregate layer takes only its types, so that zod (about 80 ms of CPU to load)
 * stays off the start-up of replay, which keeps no checkpoint.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AggregatorStateSchema } from '../../src/aggregate/aggregator-state.ts';
import { DynamicWindows } from '../../src/aggregate/dynamic-windows.ts';
import { TCP_FIELDS } from '../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { ladderBetween } from '../../src/aggregate/window-ladder.ts';
import { makeSeries } from '../../src/core/series.ts';

describe('AggregatorStateSchema', () => {
  it('accepts what fixed and dynamic aggregators save, and refuses a damaged state naming the field', () => {
    const fixed = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    const dynamic = new WindowAggregator({
      dynamic: new DynamicWindows({ rungs: ladderBetween(0, 60_000), budgetPerMinute: 10 }),
      latenessMs: 0,
    });
    for (const agg of [fixed, dynamic]) {
      agg.slotValues('n', 1_000, makeSeries('kovenant_tcp', { node: 'n' }), TCP_FIELDS)[0]! += 5;
      const saved: unknown = JSON.parse(JSON.stringify(agg.snapshot()));
      expect(AggregatorStateSchema.parse(saved)).toEqual(saved);
    }
    const damaged = JSON.parse(JSON.stringify(dynamic.snapshot())) as { dynamic: { ladder: { rung: number } } };
    damaged.dynamic.ladder.rung = -1;
    const result = AggregatorStateSchema.safeParse(damaged);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['dynamic', 'ladder', 'rung']);
  });

  it('is imported by type only in src/aggregate/', () => {
    const dir = new URL('../../src/aggregate/', import.meta.url);
    const importers = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'aggregator-state.ts');
    for (const file of importers) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*from '\.\/aggregator-state\.ts';/gm))
        expect(m[1], `${file}: ${m[0]}`).toBe('type ');
      expect(text, file).not.toMatch(/from 'zod'/);
    }
  });
});

/** `kovenant run` writes the same points through every text output as replay does. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOutput } from '../support/cli.ts';
import { fieldSums, parseLineProtocol } from '../support/line-protocol.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const INPUT =
  gunzipSync(readFileSync(resolve(EXAMPLES, 'events.jsonl.gz')))
    .toString()
    .split('\n')
    .slice(0, 600)
    .join('\n') + '\n';
const SNAPSHOT = resolve(EXAMPLES, 'snapshot.json');

function kovenant(args: string[]): Promise<string> {
  return cliOutput(args, { stdin: INPUT });
}

describe('kovenant run outputs', () => {
  let replayed: Record<string, number>;
  beforeAll(async () => {
    replayed = fieldSums(parseLineProtocol(await kovenant(['replay', '-', '--kube', SNAPSHOT, '--no-summary'])));
  });

  it('--output json: one object per point, the same totals as replay', async () => {
    const lines = (await kovenant(['run', '--events', '-', '--kube', SNAPSHOT, '--output', 'json', '--metrics-addr', 'off']))
      .trim()
      .split('\n');
    // kovenant_source is the daemon's own account of its input; replay does not write it.
    const points = lines
      .map((l) => JSON.parse(l) as { measurement: string; fields: Record<string, number> })
      .filter((p) => p.measurement !== 'kovenant_source');
    expect(points.length).toBeGreaterThan(10);
    expect(fieldSums(points)).toEqual(replayed);
  }, 60_000);

  it('--output console: plain tables when stdout is not a terminal', async () => {
    const text = await kovenant(['run', '--events', '-', '--kube', SNAPSHOT, '--output', 'console', '--metrics-addr', 'off']);
    expect(text).toContain('PODS BY NETWORK BYTES');
    expect(text).not.toContain('\u001b[');
  }, 60_000);
});

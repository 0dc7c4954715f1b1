/** `kovenant run` writes the same points through every text output as replay does. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN, parseLineProtocol } from './support.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const INPUT = gunzipSync(readFileSync(resolve(EXAMPLES, 'events.jsonl.gz'))).toString().split('\n').slice(0, 600).join('\n') + '\n';
const SNAPSHOT = resolve(EXAMPLES, 'snapshot.json');

function kovenant(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { input: INPUT, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

function sums(points: Array<{ measurement: string; fields: Record<string, number> }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) for (const [k, v] of Object.entries(p.fields)) out[`${p.measurement}.${k}`] = (out[`${p.measurement}.${k}`] ?? 0) + v;
  return out;
}

describe('kovenant run outputs', () => {
  const replayed = sums(parseLineProtocol(kovenant(['replay', '-', '--kube', SNAPSHOT, '--no-summary'])));

  it('--output json: one object per point, the same totals as replay', () => {
    const lines = kovenant(['run', '--events', '-', '--kube', SNAPSHOT, '--output', 'json', '--metrics-addr', 'off']).trim().split('\n');
    // kovenant_source is the daemon's own account of its input; replay does not write it.
    const points = lines.map((l) => JSON.parse(l) as { measurement: string; fields: Record<string, number> }).filter((p) => p.measurement !== 'kovenant_source');
    expect(points.length).toBeGreaterThan(10);
    expect(sums(points)).toEqual(replayed);
  }, 60_000);

  it('--output console: plain tables when stdout is not a terminal', () => {
    const text = kovenant(['run', '--events', '-', '--kube', SNAPSHOT, '--output', 'console', '--metrics-addr', 'off']);
    expect(text).toContain('PODS BY NETWORK BYTES');
    expect(text).not.toContain('\u001b[');
  }, 60_000);
});

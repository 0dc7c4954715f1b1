/**
 * `--output line` writes its batches from the encoder's own buffers (LineEncoder.lend)
 * and reuses a buffer only once its stream has written it: with many batches in a file
 * stream's buffer at once, every byte must still be the batch's own. (Standard output to
 * a pipe or a file is written synchronously on Linux, so no batch waits there.) And a
 * write that fails as the file is closed fails the close, for json lines too.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonLinesSink } from '../../src/sinks/json-sink.ts';
import { LineProtocolSink } from '../../src/sinks/line-sink.ts';
import { formatPoint } from '../../src/sinks/line-protocol.ts';
import type { MetricPoint } from '../../src/core/metric-point.ts';

const dir = mkdtempSync(join(tmpdir(), 'kovenant-line-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Batch `b`: its own series, values and time, so that a batch written over another shows. */
function batch(b: number): MetricPoint[] {
  return Array.from({ length: 40 + (b % 7) * 30 }, (_, i) => ({
    measurement: 'kovenant_tcp',
    tags: { pod: `pod-${b}-${i}`, namespace: 'shop'.repeat(1 + (b % 3)) },
    ints: { bytes_sent: b * 1000 + i, sends: i },
    timeMs: 1_790_000_000_000 + b * 10_000,
    key: `kovenant_tcp,namespace=${'shop'.repeat(1 + (b % 3))},pod=pod-${b}-${i}`,
  }));
}

const BATCHES = 300;
const expected = Array.from({ length: BATCHES }, (_, b) =>
  batch(b)
    .map((p) => `${formatPoint(p)}\n`)
    .join(''),
).join('');

describe('the text file sinks', () => {
  it('writes every batch as it was encoded while many are in the file stream at once', async () => {
    const file = join(dir, 'out.lp');
    const sink = await LineProtocolSink.toFile(file);
    // As the pipeline does: each write awaited, which resolves while the stream still holds the batch.
    for (let b = 0; b < BATCHES; b++) await sink.write(batch(b));
    await sink.close();
    const text = readFileSync(file, 'utf8');
    // Where the file first differs, rather than a diff of ~1 MB.
    let differs = -1;
    for (let i = 0; i < Math.max(text.length, expected.length) && differs < 0; i++) if (text[i] !== expected[i]) differs = i;
    expect({ differs, length: text.length }).toEqual({ differs: -1, length: expected.length });
  });

  it('fails its close when the last write fails after the batch was taken (a full disk)', async () => {
    // /dev/full takes the open and fails every write with ENOSPC; a batch that fits in the
    // stream's buffer fails only as the file is closed, after its write was taken.
    for (const open of [LineProtocolSink.toFile, JsonLinesSink.toFile]) {
      const sink = await open('/dev/full');
      await sink.write(batch(0));
      await expect(sink.close()).rejects.toThrow('/dev/full: cannot write: no space left on device (ENOSPC)');
    }
  });
});

/**
 * `-` reads stdin: a pipe through process.stdin, a file redirected to stdin (a backlog)
 * in 1 MB reads like a named file. Both must read every byte, gzip or not. A named file
 * is read with reads under way at once, and must still come out whole and in order.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openByteInput, readAhead, type Fill } from '../../src/sources/byte-input.ts';
import { releaseChunk } from '../../src/sources/exclusive-chunk.ts';
import { REPO, runCli, type CliResult } from '../support/cli.ts';

const GOLDEN = gunzipSync(readFileSync(`${REPO}test/golden/example.lp.gz`)).toString('utf8');
const ARGS = ['replay', '-', '--kube', 'examples/snapshot.json', '--window', '10s', '--no-summary'];

function replayFromStdin(stdin: number | Buffer): Promise<CliResult> {
  return runCli(ARGS, { stdin, stderr: 'inherit' });
}

describe('stdin as the events input', () => {
  it('reads a gzip file redirected to stdin and plain events through a pipe to the same output', async () => {
    const gz = `${REPO}examples/events.jsonl.gz`;
    const fd = openSync(gz, 'r');
    try {
      const redirected = await replayFromStdin(fd);
      expect(redirected.code).toBe(0);
      expect(redirected.stdout).toBe(GOLDEN);
    } finally {
      closeSync(fd);
    }
    const piped = await replayFromStdin(gunzipSync(readFileSync(gz)));
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(GOLDEN);
  }, 60_000);
});

describe('a named file as the events input', () => {
  const MB = 1 << 20;
  const pattern = (n: number, seed: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 12)) & 255;
    return b;
  };
  const readAll = async (path: string): Promise<Buffer> => {
    const input = await openByteInput(path);
    const parts: Buffer[] = [];
    for await (const chunk of input.chunks) parts.push(Buffer.from(chunk));
    return Buffer.concat(parts);
  };

  it('is read whole and in order through reads under way at once', async () => {
    const dir = mkdtempSync(`${tmpdir()}/kovenant-input-`);
    try {
      // Bytes that differ per position, so that a chunk out of place or read twice shows;
      // not gzip (the first byte is not 0x1f).
      const bytes = pattern(3 * MB + 12_345, 7);
      bytes[0] = 0x7b;
      writeFileSync(`${dir}/events.jsonl`, bytes);
      expect((await readAll(`${dir}/events.jsonl`)).equals(bytes)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads into the memory of chunks the consumer released, never into one it keeps', async () => {
    const file = pattern(9 * MB + 77, 3);
    // The pattern repeats every 4 MB: each megabyte starts with bytes of its own.
    for (let m = 0; m < 10; m++) file.fill(m + 1, m * MB, Math.min(m * MB + 4096, file.length));
    const fill: Fill = async (buf, at) => file.copy(buf, 0, Math.min(at, file.length), Math.min(at + buf.length, file.length));
    const kept: Array<{ chunk: Buffer; copy: Buffer }> = [];
    const memories = new Set<ArrayBufferLike>();
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of readAhead(fill, 2)) {
      memories.add(chunk.buffer);
      parts.push(Buffer.from(chunk));
      // Every third chunk is kept (never released): later reads must not touch it.
      if (n++ % 3 === 0) kept.push({ chunk, copy: Buffer.from(chunk) });
      else releaseChunk(chunk);
    }
    expect(Buffer.concat(parts).equals(file)).toBe(true);
    for (const { chunk, copy } of kept) expect(chunk.equals(copy)).toBe(true);
    // Ten chunks in fewer buffers: released memory was read into again.
    expect(n).toBe(10);
    expect(memories.size).toBeLessThan(n);
  });

  it('leaves no gap when the file grows between two reads under way', async () => {
    // A file of 1.5 MB that grows by 2 MB just as the read at 2 MB starts: the read at
    // 1 MB, already done, was short (the end as it was), the one at 2 MB sees appended
    // bytes. Handing that one out would skip the appended bytes from 1.5 to 2 MB.
    let file = pattern(MB + MB / 2, 1);
    const appended = pattern(2 * MB, 99);
    const whole = Buffer.concat([file, appended]);
    const fill: Fill = async (buf, at) => {
      if (at >= 2 * MB && file.length < whole.length) file = whole;
      return file.copy(buf, 0, Math.min(at, file.length), Math.min(at + buf.length, file.length));
    };
    const parts: Buffer[] = [];
    for await (const chunk of readAhead(fill, 2)) parts.push(Buffer.from(chunk));
    expect(Buffer.concat(parts).equals(whole)).toBe(true);
  });
});

/** Follows a real file while it is rotated by rename and by copy-truncate. */
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileFollower } from '../../src/sources/file-follower.ts';
import { FollowerScratch, readInBackground } from '../support/followed-file.ts';
import { waitFor } from '../support/wait.ts';

const scratch = new FollowerScratch();
afterEach(() => scratch.dispose());

describe('FileFollower', () => {
  it('waits for the file, then follows it across rename rotation and copy-truncate', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    const stop = scratch.stopper();
    const follower = new FileFollower(path, { pollMs: 20, signal: stop.signal });
    const r = readInBackground(follower);
    // A few polls of the missing file first (an input of the test: it passes without them).
    await new Promise((res) => setTimeout(res, 60));
    writeFileSync(path, 'a1\na2\n');
    expect(await r.until(2)).toEqual(['a1', 'a2']);
    appendFileSync(path, 'a3\n');
    await r.until(3);
    // rename rotation: the last lines of the old file are written after the rename.
    renameSync(path, `${path}.1`);
    appendFileSync(`${path}.1`, 'a4\n');
    writeFileSync(path, 'b1\n');
    expect(await r.until(5)).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
    expect(follower.renames).toBe(1);
    // copy-truncate
    appendFileSync(path, 'b2\nb3\n');
    await r.until(7);
    copyFileSync(path, `${path}.2`);
    truncateSync(path, 0);
    await waitFor('the truncation to be seen', () => follower.truncations === 1);
    appendFileSync(path, 'c1\n');
    expect(await r.until(8)).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'c1']);
    expect(follower.truncations).toBe(1);
    stop.abort();
    await r.done;
  });

  it('hands out small reads without pinning the 1 MiB read buffer, and never reuses a buffer handed out', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'b');
    writeFileSync(path, big);
    const stop = scratch.stopper();
    const follower = new FileFollower(path, { pollMs: 10, signal: stop.signal });
    const chunks: Buffer[] = [];
    const done = (async () => {
      for await (const chunk of follower.chunks) chunks.push(chunk);
    })();
    const total = (): number => chunks.reduce((n, c) => n + c.length, 0);
    const until = (n: number): Promise<void> =>
      waitFor(`${n} bytes`, () => total() >= n, 15_000, 10).catch(() => {
        throw new Error(`timed out at ${total()} of ${n} bytes`);
      });
    await until(big.length);
    // Idle polls in between (an input, not a wait for a result), then short tail writes.
    await new Promise((res) => setTimeout(res, 50));
    const tails = ['t1\n', 't2\n', 't3\n'];
    for (const t of tails) {
      appendFileSync(path, t);
      await until(big.length + tails.slice(0, tails.indexOf(t) + 1).join('').length);
    }
    stop.abort();
    await done;
    // Chunks kept across later reads still hold what was read: no buffer was read into twice.
    expect(Buffer.concat(chunks).equals(Buffer.concat([big, Buffer.from(tails.join(''))]))).toBe(true);
    const small = chunks.filter((c) => c.length < 1024);
    expect(small.length).toBeGreaterThanOrEqual(tails.length);
    for (const c of small) expect(c.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('resumes from a position only when the inode matches', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    writeFileSync(path, 'x1\nx2\nx3\n');
    const stop = scratch.stopper();
    const first = new FileFollower(path, { pollMs: 20, signal: stop.signal });
    const r1 = readInBackground(first);
    await r1.until(3);
    const pos = first.position();
    stop.abort();
    await r1.done;
    expect(pos.offset).toBe(9);
    appendFileSync(path, 'x4\n');
    const stop2 = scratch.stopper();
    const r2 = readInBackground(new FileFollower(path, { pollMs: 20, signal: stop2.signal, resumeFrom: { inode: pos.inode, offset: 6 } }));
    expect(await r2.until(2)).toEqual(['x3', 'x4']);
    stop2.abort();
    const stop3 = scratch.stopper();
    const r3 = readInBackground(
      new FileFollower(path, { pollMs: 20, signal: stop3.signal, resumeFrom: { inode: pos.inode + 1, offset: 6 } }),
    );
    expect(await r3.until(4)).toEqual(['x1', 'x2', 'x3', 'x4']);
    stop3.abort();
  });
});

/**
 * The pieces of the checkpoint: the splitter's resume offset, the follower's file
 * positions and resume decisions, the atomic store, and the aggregator's snapshot.
 */
import { appendFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TCP_FIELDS } from '../../src/aggregate/field-schema.ts';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { makeSeries } from '../../src/core/series.ts';
import { CheckpointFile, CheckpointTracker, type Checkpoint } from '../../src/pipeline/checkpoint.ts';
import { FileFollower, type ResumeOutcome } from '../../src/sources/file-follower.ts';
import { LineFramer, emitLine, splitLines } from '../../src/sources/line-splitter.ts';
import { FollowerScratch, readInBackground } from '../support/followed-file.ts';

const scratch = new FollowerScratch();
afterEach(() => scratch.dispose());

describe('LineFramer.linesEnd', () => {
  it('is the offset past the last newline, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'bc', '\n', 'xyz\n', '\r\n'), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        (parts, sizes) => {
          const text = Buffer.from(parts.join(''));
          const lines: string[] = [];
          const onLine = (buf: Buffer, s: number, e: number): number => lines.push(buf.toString('utf8', s, e));
          const framer = new LineFramer();
          let at = 0;
          for (let i = 0; at < text.length; i++) {
            const n = sizes[i % sizes.length]!;
            // As the decode stage takes a chunk: the line it completes, then its body.
            const chunk = text.subarray(at, at + n);
            const head = framer.push(chunk);
            if (head) emitLine(onLine, framer.maxLineBytes, head, 0, head.length);
            splitLines(onLine, framer.maxLineBytes, chunk, framer.bodyStart, framer.bodyEnd);
            at += n;
            // Everything before linesEnd was handed over as lines; nothing after it was.
            const end = framer.linesEnd;
            expect(end).toBe(text.subarray(0, at).lastIndexOf(0x0a) + 1);
            expect(lines.join('\n') + (lines.length ? '\n' : '')).toBe(text.subarray(0, end).toString().replace(/\r\n/g, '\n'));
          }
        },
      ),
    );
  });
});

/** A file with two lines, read to its end by a first follower. */
async function followedOnce(): Promise<{ dir: string; path: string; stop: AbortController; first: FileFollower }> {
  const dir = scratch.dir();
  const path = join(dir, 'tetragon.log');
  writeFileSync(path, 'one\ntwo\n');
  const stop = scratch.stopper();
  const first = new FileFollower(path, { pollMs: 10, signal: stop.signal });
  await readInBackground(first).untilText((t) => t === 'one\ntwo\n');
  return { dir, path, stop, first };
}

describe('FileFollower positions and resume', () => {
  it('maps stream offsets to (inode, offset) across a rename rotation', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    writeFileSync(path, 'a1\na2\n');
    const stop = scratch.stopper();
    const follower = new FileFollower(path, { pollMs: 10, signal: stop.signal });
    const reader = readInBackground(follower);
    // The follower must hold the first file open before it is renamed away.
    await reader.untilText((t) => t === 'a1\na2\n');
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'b1\n');
    await reader.untilText((t) => t.includes('b1\n'));
    const first = follower.positionAt(3);
    const second = follower.positionAt(6 + 2);
    expect(first.offset).toBe(3);
    expect(second.offset).toBe(2);
    expect(second.inode).not.toBe(first.inode);
    // The end of the old file is the start of the new one: resuming there needs no old file.
    expect(follower.positionAt(6)).toMatchObject({ inode: second.inode, offset: 0 });
  });

  it('resumes at a position when the inode and first bytes match, and says so', async () => {
    const { path, stop, first } = await followedOnce();
    const saved = first.positionAt(4);
    appendFileSync(path, 'three\n');
    const outcomes: ResumeOutcome[] = [];
    const second = new FileFollower(path, { pollMs: 10, signal: stop.signal, resumeFrom: saved, onResume: (o) => outcomes.push(o) });
    expect(await readInBackground(second).untilText((t) => t.endsWith('three\n'))).toBe('two\nthree\n');
    expect(outcomes).toEqual([{ kind: 'resumed', offset: 4 }]);
  });

  it('reads the rest of a file rotated while stopped, then the new file', async () => {
    const { dir, path, stop, first } = await followedOnce();
    const saved = first.positionAt(4);
    appendFileSync(path, 'three\n');
    renameSync(path, join(dir, 'tetragon-2024-05-01T12-00-00.000.log'));
    writeFileSync(path, 'four\n');
    const outcomes: ResumeOutcome[] = [];
    const second = new FileFollower(path, { pollMs: 10, signal: stop.signal, resumeFrom: saved, onResume: (o) => outcomes.push(o) });
    expect(await readInBackground(second).untilText((t) => t.endsWith('four\n'))).toBe('two\nthree\nfour\n');
    expect(outcomes[0]).toMatchObject({ kind: 'rotated', offset: 4 });
  });

  it('starts over, and says what may be missing, after a truncation or a refill while stopped', async () => {
    const { path, stop, first } = await followedOnce();
    const saved = first.positionAt(8);
    // copy-truncate, then new lines: same inode, other first bytes.
    writeFileSync(path, 'new1\nnew2\nnew3\n');
    const outcomes: ResumeOutcome[] = [];
    const second = new FileFollower(path, { pollMs: 10, signal: stop.signal, resumeFrom: saved, onResume: (o) => outcomes.push(o) });
    expect(await readInBackground(second).untilText((t) => t.endsWith('new3\n'))).toBe('new1\nnew2\nnew3\n');
    expect(outcomes[0]).toMatchObject({ kind: 'missed', reason: expect.stringContaining('other first bytes') });
  });
});

describe('CheckpointFile', () => {
  it('round-trips, leaves no temporary files, and refuses a damaged file with a hint', async () => {
    const dir = scratch.dir();
    const store = new CheckpointFile(join(dir, 'sub', 'checkpoint.json'));
    expect(await store.load()).toBeUndefined();
    const aggregator = new WindowAggregator({ windowMs: 1000, latenessMs: 0 });
    aggregator.slotValues('n1', 1500, makeSeries('kovenant_tcp', { node: 'n1' }), TCP_FIELDS)[0] = 7;
    const checkpoint = {
      version: 1 as const,
      path: '/x',
      position: { inode: 5, offset: 10, head: 'ab' },
      aggregator: aggregator.snapshot(),
      savedAt: 'now',
    };
    await store.save(checkpoint);
    await store.save({ ...checkpoint, position: { inode: 5, offset: 20, head: 'ab' } });
    expect((await store.load())?.position.offset).toBe(20);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['checkpoint.json']);
    writeFileSync(store.file, '{"version":2}');
    await expect(store.load()).rejects.toMatchObject({ hint: expect.stringContaining('remove it') });
  });
});

describe('CheckpointTracker', () => {
  it('saves the newest acknowledged checkpoint, one save at a time, without holding up the batches', async () => {
    const { dir, first } = await followedOnce();
    const saved: Checkpoint[] = [];
    const releases: Array<() => void> = [];
    // A disk whose fsync takes as long as the test says.
    const store = new (class extends CheckpointFile {
      override async save(checkpoint: Checkpoint): Promise<void> {
        await new Promise<void>((resolve) => releases.push(resolve));
        saved.push(checkpoint);
      }
    })(join(dir, 'checkpoint.json'));
    const aggregator = new WindowAggregator({ windowMs: 1000, latenessMs: 0 });
    const tracker = new CheckpointTracker(store, first, aggregator, (err) => {
      throw err;
    });
    const batches = [0, 4, 8].map((linesEnd) => {
      const points = [{ measurement: 'm', tags: {}, ints: { n: linesEnd }, timeMs: 0 }];
      tracker.mark(points, linesEnd);
      return points;
    });
    // Acknowledging returns at once while the first save waits on the disk.
    for (const points of batches) tracker.acknowledged(points);
    expect(releases).toHaveLength(1);
    let settled = false;
    const settling = tracker.settled().then(() => (settled = true));
    releases.shift()!();
    // The first save done, the next one writes the newest (the middle one is skipped).
    await new Promise((r) => setImmediate(r));
    expect(saved.map((c) => c.position.offset)).toEqual([0]);
    expect(releases).toHaveLength(1);
    expect(settled).toBe(false);
    releases.shift()!();
    await settling;
    expect(saved.map((c) => c.position.offset)).toEqual([0, 8]);
    expect(tracker.saved).toBe(2);
  });
});

describe('WindowAggregator snapshot/restore', () => {
  it('continues exactly as the aggregator it was taken from', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 100 }), fc.constantFrom('a', 'b')), {
          maxLength: 60,
        }),
        fc.nat(60),
        (events, cutAt) => {
          const cut = Math.min(cutAt, events.length);
          const run = (restoreAt: number | undefined): string[] => {
            let agg = new WindowAggregator({ windowMs: 1000, latenessMs: 500 });
            const out: string[] = [];
            events.forEach(([t, bytes, peer], i) => {
              if (i === restoreAt) {
                // JSON round trip, as through the checkpoint file.
                const state = JSON.parse(JSON.stringify(agg.snapshot()));
                agg = new WindowAggregator({ windowMs: 1000, latenessMs: 500 });
                agg.restore(state);
              }
              agg.slotValues('n1', t, makeSeries('kovenant_tcp', { remote_name: peer }), TCP_FIELDS)[0]! += bytes;
              for (const p of agg.closeReady()) out.push(`${p.timeMs} ${p.key} ${JSON.stringify(p.ints)}`);
            });
            for (const p of agg.closeAll()) out.push(`${p.timeMs} ${p.key} ${JSON.stringify(p.ints)}`);
            return out;
          };
          expect(run(cut)).toEqual(run(undefined));
        },
      ),
    );
  });

  it('refuses a snapshot of another window length', () => {
    const state = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 }).snapshot();
    expect(() => new WindowAggregator({ windowMs: 1000, latenessMs: 0 }).restore(state)).toThrow(/10000 ms long/);
  });
});

/**
 * The follower against a writer that rotates like Tetragon's lumberjack: many rotations
 * between two polls, gzipped backups, backups deleted by the backup limit before they
 * were read, and a restart into a backup gzipped while stopped. Real files throughout.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { FileFollower, type MissedFile, type ResumeOutcome } from '../../src/sources/file-follower.ts';
import { FollowerScratch, readInBackground } from '../support/followed-file.ts';
import { LumberjackWriter } from '../support/lumberjack-writer.ts';
import { waitFor } from '../support/wait.ts';
import { xorshift } from '../support/window-oracle.ts';

const scratch = new FollowerScratch();
afterEach(() => scratch.dispose());

let lineNo = 0;
function lines(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += `{"n":${++lineNo},"pad":"${'x'.repeat(lineNo % 97)}"}\n`;
  return out;
}

/** Writes `total` lines in bursts, rotating after most bursts, several rotations per poll. */
async function writeRotating(writer: LumberjackWriter, total: number, seed: number): Promise<void> {
  const next = xorshift(seed);
  for (let written = 0; written < total;) {
    const n = Math.min(total - written, 1 + next(400));
    writer.write(lines(n));
    written += n;
    if (next(4) !== 0) writer.rotate();
    // The writer's pace (an input, not a wait): mostly no pause at all, so that many
    // rotations fall between two polls.
    if (next(8) === 0) await new Promise((r) => setTimeout(r, 1 + next(30)));
  }
}

describe('FileFollower with lumberjack rotation', () => {
  for (const compress of [false, true]) {
    it(`reads every line once, in order, across many rotations between polls${compress ? ', backups gzipped' : ''}`, async () => {
      const dir = scratch.dir();
      const path = join(dir, 'tetragon.log');
      const writer = new LumberjackWriter(path, { compress });
      const stop = scratch.stopper();
      const missed: MissedFile[] = [];
      const follower = new FileFollower(path, { pollMs: 100, signal: stop.signal, onMissed: (m) => missed.push(m) });
      const r = readInBackground(follower);
      // Backups there before the first start are history, not read: start first.
      await waitFor('the follower to open the file', () => follower.surveys >= 1, 10_000);
      await writeRotating(writer, 30_000, compress ? 7 : 3);
      const text = await r.untilText((t) => t.length >= writer.written.length, 60_000);
      expect(text === writer.written).toBe(true);
      expect(writer.rotations).toBeGreaterThan(50);
      expect(follower.renames).toBe(writer.rotations);
      expect(missed).toEqual([]);
      stop.abort();
      await r.done;
    }, 90_000);
  }

  it('reads every line once, in order, when the writer is another process (rotations seen half done)', async () => {
    const script = fileURLToPath(new URL('../support/lumberjack-writer-process.ts', import.meta.url));
    for (const seed of [1, 2, 3]) {
      const dir = scratch.dir();
      const path = join(dir, 'tetragon.log');
      const stop = scratch.stopper();
      const missed: MissedFile[] = [];
      const child = spawn(process.execPath, ['--import', 'tsx', script, path, '3000', String(seed)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the writer to create the file', () => out.includes('ready'), 30_000);
      const follower = new FileFollower(path, { pollMs: 50, signal: stop.signal, onMissed: (m) => missed.push(m) });
      // A slow consumer now and then, so that surveys run while reads wait.
      let text = '';
      const done = (async () => {
        let i = 0;
        for await (const chunk of follower.chunks) {
          text += chunk.toString();
          // A slow reader (the input of the test), so that rotations pile up between reads.
          if (++i % 3 === 0) await new Promise((r) => setTimeout(r, 15));
        }
      })();
      await waitFor('the follower to open the file', () => follower.surveys >= 1, 10_000);
      child.stdin.end('go');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code, out).toBe(0);
      const numbers = (): number[] =>
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { n: number }).n);
      await waitFor('every line', () => numbers().length >= 3000, 60_000).catch(() => undefined);
      const got = numbers();
      const firstWrong = got.findIndex((n, i) => n !== i + 1);
      expect({ seed, lines: got.length, firstWrong, missed }).toEqual({ seed, lines: 3000, firstWrong: -1, missed: [] });
      stop.abort();
      await done;
    }
  }, 240_000);

  it('reports backups deleted before they were read, with their exact size, and reads the rest', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    const writer = new LumberjackWriter(path, { maxBackups: 1 });
    const stop = scratch.stopper();
    const missed: MissedFile[] = [];
    const follower = new FileFollower(path, { pollMs: 20, signal: stop.signal, onMissed: (m) => missed.push(m) });
    // Pulled by hand: the reader stalls (a slow sink) while Tetragon rotates on.
    const it = follower.chunks[Symbol.asyncIterator]();
    let text = '';
    const pullUntil = async (done: () => boolean): Promise<void> => {
      while (!done()) {
        const r = await it.next();
        if (r.done) throw new Error('the follower ended');
        text += r.value.toString();
      }
    };
    writer.write(lines(50));
    await pullUntil(() => text === writer.written);
    for (let i = 0; i < 4; i++) {
      writer.write(lines(30 + i));
      writer.rotate();
      const surveys = follower.surveys;
      await waitFor('two directory surveys', () => follower.surveys >= surveys + 2, 10_000);
    }
    writer.write(lines(5));
    const last = writer.written.slice(writer.written.lastIndexOf('{"n"'));
    await pullUntil(() => text.endsWith(last));
    // The first rotated file was being read (its descriptor is open): not lost. The next
    // two were deleted by the backup limit before the reader came back to them.
    expect(writer.deleted.size).toBe(3);
    const lostText = [...writer.deleted.values()].slice(1);
    let expected = writer.written;
    for (const t of lostText) expected = expected.replace(t, '');
    expect(text === expected).toBe(true);
    expect(missed.map((m) => m.file)).toEqual([...writer.deleted.keys()].slice(1).map((n) => join(dir, n)));
    expect(missed.map((m) => m.bytes)).toEqual(lostText.map((t) => Buffer.byteLength(t)));
    expect(follower.filesMissed).toBe(2);
    expect(follower.bytesMissed).toBe(lostText.reduce((n, t) => n + Buffer.byteLength(t), 0));
    await it.return?.();
  }, 60_000);

  it('resumes inside a backup that was gzipped while stopped, then reads every later one', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    const writer = new LumberjackWriter(path, { compress: true });
    writer.write(lines(100));
    const stop = scratch.stopper();
    const first = new FileFollower(path, { pollMs: 20, signal: stop.signal });
    const r1 = readInBackground(first);
    await r1.untilText((t) => t === writer.written);
    // A checkpoint at a line boundary in the middle of the live file.
    const at = writer.written.indexOf('{"n"', writer.written.length / 2);
    const saved = first.positionAt(Buffer.byteLength(writer.written.slice(0, at)));
    stop.abort();
    await r1.done;
    writer.write(lines(40));
    writer.rotate();
    for (let i = 0; i < 3; i++) {
      writer.write(lines(60));
      writer.rotate();
    }
    writer.write(lines(7));
    const outcomes: ResumeOutcome[] = [];
    const stop2 = scratch.stopper();
    const second = new FileFollower(path, { pollMs: 20, signal: stop2.signal, resumeFrom: saved, onResume: (o) => outcomes.push(o) });
    const r2 = readInBackground(second);
    const want = writer.written.slice(at);
    expect((await r2.untilText((t) => t.length >= want.length, 20_000)) === want).toBe(true);
    expect(outcomes[0]).toMatchObject({
      kind: 'rotated',
      rotatedPath: expect.stringMatching(/tetragon-2026-05-01T12-00-01\.000\.log\.gz$/),
    });
    stop2.abort();
    await r2.done;
  }, 60_000);

  it('says what is gone when the checkpointed file was deleted while stopped, with an estimate', async () => {
    const dir = scratch.dir();
    const path = join(dir, 'tetragon.log');
    const writer = new LumberjackWriter(path, { maxBackups: 2 });
    writer.write(lines(100));
    const stop = scratch.stopper();
    const first = new FileFollower(path, { pollMs: 20, signal: stop.signal });
    const r1 = readInBackground(first);
    await r1.untilText((t) => t === writer.written);
    const offset = Buffer.byteLength(writer.written);
    const saved = first.positionAt(offset);
    stop.abort();
    await r1.done;
    for (let i = 0; i < 4; i++) {
      writer.write(lines(100));
      writer.rotate();
    }
    writer.write(lines(3));
    const missed: MissedFile[] = [];
    const outcomes: ResumeOutcome[] = [];
    const stop2 = scratch.stopper();
    const second = new FileFollower(path, {
      pollMs: 20,
      signal: stop2.signal,
      resumeFrom: saved,
      onResume: (o) => outcomes.push(o),
      onMissed: (m) => missed.push(m),
    });
    const r2 = readInBackground(second);
    // The two oldest backups (the checkpointed file among them) are gone; the rest is read.
    expect(writer.deleted.size).toBe(2);
    const expected = writer.written.slice([...writer.deleted.values()].join('').length);
    expect((await r2.untilText((t) => t.length >= expected.length, 20_000)) === expected).toBe(true);
    expect(outcomes[0]).toMatchObject({ kind: 'missed', reason: expect.stringContaining('neither') });
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({ file: join(dir, 'tetragon.log'), estimated: true });
    expect(missed[0]!.bytes).toBeGreaterThan(0);
    expect(second.filesMissed).toBe(1);
    stop2.abort();
    await r2.done;
  }, 60_000);
});

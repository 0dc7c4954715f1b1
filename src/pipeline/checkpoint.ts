/**
 * The daemon's checkpoint for `--events file:PATH`: where in the file to resume and the
 * aggregator's open windows at that point, saved only after the sink acknowledged every
 * window closed before it.
 *
 * Why the open windows are saved, not just an offset: windows are idempotent (a point
 * written again for the same series and window overwrites), so a restart must never
 * write a window with only part of its events, nor count an event twice. Resuming at
 * the smallest offset of any open window and re-reading from there (the first design)
 * breaks as soon as events are slightly out of order: a straggler of window N read
 * after the first event of window N+1 is re-read, finds N closed and is folded in a
 * second time. With the open windows, the watermarks and `closedBefore` in the
 * checkpoint, the restarted aggregator is exactly the one that had read up to the
 * offset, so it continues as the first run did. With `--window dynamic` the aggregator's
 * state includes the schedule of window lengths and the controller's state, so the
 * restarted daemon assigns every event to the window the first run would have.
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { InputError } from '../core/input-error.ts';
import { AggregatorStateSchema } from '../aggregate/aggregator-state.ts';
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { MetricPoint } from '../core/metric-point.ts';
import type { FileFollower, FollowPosition } from '../sources/file-follower.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';

const CHECKPOINT_VERSION = 1;

/**
 * The follower's position (sources/file-follower.ts). `satisfies`: a field of
 * FollowPosition missing here, even an optional one, fails the typecheck instead of
 * being dropped from every saved checkpoint.
 */
const FollowPositionSchema = z.object({
  inode: z.number().int().min(0),
  offset: z.number().int().min(0),
  head: z.string().optional(),
  file: z.string().optional(),
  after: z.string().optional(),
}) satisfies z.ZodType<FollowPosition> & { shape: Record<keyof FollowPosition, unknown> };

const CheckpointSchema = z.object({
  version: z.literal(CHECKPOINT_VERSION),
  /** The followed path (a checkpoint of another path is ignored). */
  path: z.string(),
  /** The first byte not yet in the aggregator: the start of the first unread line. */
  position: FollowPositionSchema,
  aggregator: AggregatorStateSchema,
  savedAt: z.string(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export class CheckpointFile {
  constructor(readonly file: string) {}

  /** The saved checkpoint; undefined when there is none yet. */
  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw InputError.fromFs(this.file, err);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new InputError(
        `checkpoint ${this.file}: not valid JSON (${(err as Error).message})`,
        'the file is written atomically, so this is not a torn write: remove it to start the followed file from its beginning',
      );
    }
    const parsed = CheckpointSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(
        `checkpoint ${this.file}: ${issue.path.join('.') || 'document'}: ${issue.message}`,
        'written by another kovenant version? remove it to start the followed file from its beginning',
      );
    }
    return parsed.data;
  }

  /** Replaces the file atomically and durably (file and directory fsynced). */
  async save(checkpoint: Checkpoint): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(checkpoint), { sync: true, mode: 0o600 });
  }
}

/**
 * Pairs each batch of closed windows with the checkpoint that becomes true once the
 * sink has it, and saves that checkpoint when the sink acknowledges the batch.
 * Batches are acknowledged in the order they were produced (the pipeline writes them
 * one after the other), so every save moves forward.
 *
 * Saves run beside the pipeline, one at a time, and a save always writes the newest
 * acknowledged checkpoint: while one is being synced to disk, the batches acknowledged
 * meanwhile only replace the one to save next. Awaiting every fsync in line made a
 * backlog (a restart, a burst) wait on the disk once per batch; skipping the checkpoints
 * in between loses nothing, as each one covers everything before it.
 */
export class CheckpointTracker {
  private readonly pending = new WeakMap<readonly MetricPoint[], PendingCheckpoint>();
  /** The newest acknowledged checkpoint not saved yet. */
  private next: PendingCheckpoint | undefined;
  private saving: Promise<void> | undefined;
  /** Checkpoints saved, and saves that failed (the daemon goes on; the next one retries). */
  saved = 0;
  failed = 0;

  constructor(
    private readonly store: CheckpointFile,
    private readonly follower: FileFollower,
    private readonly aggregator: WindowAggregator,
    private readonly onSaveError: (err: unknown) => void,
  ) {}

  /**
   * Called when `points` were just closed, synchronously, with `linesEnd` the stream
   * offset past the last line the aggregator took: the aggregator's state now is the
   * state at that offset.
   */
  mark(points: readonly MetricPoint[], linesEnd: number): void {
    this.pending.set(points, {
      streamOffset: linesEnd,
      checkpoint: {
        version: CHECKPOINT_VERSION,
        path: this.follower.path,
        position: this.follower.positionAt(linesEnd),
        aggregator: this.aggregator.snapshot(),
        savedAt: '',
      },
    });
  }

  /**
   * The sink accepted `points`: their checkpoint, if they have one, is now safe to save.
   * Starts the save without waiting for it (see `settled`).
   */
  acknowledged(points: readonly MetricPoint[]): void {
    const entry = this.pending.get(points);
    if (!entry) return;
    this.pending.delete(points);
    this.next = entry;
    this.saving ??= this.saveNewest();
  }

  /** Resolves once the newest acknowledged checkpoint is saved (or its save failed). */
  async settled(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private async saveNewest(): Promise<void> {
    try {
      for (let entry = this.next; entry; entry = this.next) {
        this.next = undefined;
        try {
          await this.store.save({ ...entry.checkpoint, savedAt: new Date().toISOString() });
          this.saved++;
          this.follower.release(entry.streamOffset);
        } catch (err) {
          this.failed++;
          this.onSaveError(err);
        }
      }
    } finally {
      this.saving = undefined;
    }
  }
}

interface PendingCheckpoint {
  checkpoint: Checkpoint;
  streamOffset: number;
}

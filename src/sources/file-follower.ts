/**
 * `--events file:PATH`: follows a file like `tail -F`, across both kinds of rotation:
 * - rename + new file (Tetragon's own rotation, logrotate `create`): the old file is
 *   read to its end through the still-open descriptor, then the new file from 0;
 * - copy-truncate: the file shrinks below our position, so reading restarts at 0.
 *   Lines appended between the copy and the truncation are lost; that is inherent in
 *   copy-truncate, not in the follower.
 * A missing file is waited for (Tetragon may start after the daemon).
 *
 * Positions. The chunks form one byte stream across files; a consumer counts bytes in
 * that stream ("stream offsets") and asks `positionAt` which file and file offset one
 * corresponds to, which is what a checkpoint stores. A position carries a fingerprint
 * of the file's first bytes, so that a restart does not resume inside a different file
 * that happens to reuse the inode, or a file that was truncated and refilled meanwhile.
 */
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ByteInput } from './byte-input.ts';

const CHUNK_BYTES = 1024 * 1024;
/**
 * A read at least this long is handed out in the read buffer itself; a shorter one is
 * copied out, so that a tail line does not keep 1 MiB alive and the buffer serves the
 * next read. Measured on a 512 MiB file in the page cache: about as fast as a fresh
 * buffer per read, where copying every read was ~1.5x slower; idle polls (0 bytes)
 * no longer allocate (20,000 of them: 0.8 s instead of 1.75 s).
 */
const HAND_OUT_BYTES = CHUNK_BYTES / 2;
/** Bytes at the start of a file that its fingerprint covers. */
const HEAD_BYTES = 4096;

export interface FollowPosition {
  /** Inode of the file (0 before it exists). */
  inode: number;
  /** Byte offset in that file. */
  offset: number;
  /** sha256 (hex) of the file's first min(offset, 4096) bytes; checked when resuming. */
  head?: string;
}

/** What the follower did with `resumeFrom`, for the daemon's log. */
export type ResumeOutcome =
  | { kind: 'none' }
  | { kind: 'resumed'; offset: number }
  /** The checkpointed file had been rotated away: its rest is read first, from `rotatedPath`. */
  | { kind: 'rotated'; rotatedPath: string; offset: number }
  | { kind: 'missed'; reason: string };

export interface FollowOptions {
  /** How often to look for growth and rotation when at the end; default 200 ms. */
  pollMs?: number;
  /** Where a previous run stopped: used only if inode and fingerprint still match. */
  resumeFrom?: FollowPosition;
  /** Told once, when the file is first opened, what became of `resumeFrom`. */
  onResume?: (outcome: ResumeOutcome) => void;
  signal?: AbortSignal;
}

/** The first bytes of one file as the follower read them. */
class FileHead {
  bytes = Buffer.alloc(0);

  /** Takes what of `data` (read at `fileOffset`) falls in the first HEAD_BYTES. */
  take(fileOffset: number, data: Buffer): void {
    if (fileOffset !== this.bytes.length || this.bytes.length >= HEAD_BYTES) return;
    this.bytes = Buffer.concat([this.bytes, data.subarray(0, HEAD_BYTES - this.bytes.length)]);
  }

  fingerprint(offset: number): string {
    return headFingerprint(this.bytes.subarray(0, Math.min(offset, HEAD_BYTES)));
  }
}

function headFingerprint(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A stretch of the stream read from one file (a new one starts at each switch). */
interface Segment {
  streamStart: number;
  inode: number;
  fileStart: number;
  head: FileHead;
}

interface OpenFile {
  handle: FileHandle;
  inode: number;
  offset: number;
  head: FileHead;
  /** A rotated file read to its end only, then the path is followed. */
  drainOnly: boolean;
}

export class FileFollower implements ByteInput {
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
  /** Rotations seen, by kind. */
  renames = 0;
  truncations = 0;
  resumeOutcome: ResumeOutcome = { kind: 'none' };
  private inode = 0;
  private offset = 0;
  private streamOffset = 0;
  private segments: Segment[] = [];

  constructor(
    readonly path: string,
    private readonly options: FollowOptions = {},
  ) {
    this.name = path;
    this.chunks = this.follow();
  }

  /** Where the next chunk starts. */
  position(): FollowPosition {
    return { inode: this.inode, offset: this.offset };
  }

  /**
   * The file position of a stream offset (bytes handed out before it, over all files).
   * Only offsets not older than the last `release` can be mapped.
   */
  positionAt(streamOffset: number): FollowPosition {
    // Nothing read yet (the file does not exist yet): a restart starts where this run did.
    if (this.segments.length === 0 && streamOffset === 0) return this.options.resumeFrom ?? { inode: 0, offset: 0 };
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      if (seg.streamStart <= streamOffset) {
        const offset = seg.fileStart + (streamOffset - seg.streamStart);
        return { inode: seg.inode, offset, head: seg.head.fingerprint(offset) };
      }
    }
    throw new RangeError(`stream offset ${streamOffset} is before the first segment the follower still knows`);
  }

  /** Forgets segments wholly before `streamOffset`: no position before it will be asked. */
  release(streamOffset: number): void {
    let keepFrom = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.streamStart <= streamOffset) keepFrom = i;
    if (keepFrom > 0) this.segments.splice(0, keepFrom);
  }

  private startSegment(file: OpenFile): void {
    this.segments.push({ streamStart: this.streamOffset, inode: file.inode, fileStart: file.offset, head: file.head });
  }

  private async sleep(): Promise<void> {
    const signal = this.options.signal;
    if (signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.options.pollMs ?? 200);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Reads the first bytes of a file for its fingerprint (`upTo` of them at most). */
  private static async readHead(handle: FileHandle, upTo: number): Promise<FileHead> {
    const head = new FileHead();
    const want = Math.min(upTo, HEAD_BYTES);
    if (want === 0) return head;
    const buf = Buffer.alloc(want);
    const { bytesRead } = await handle.read(buf, 0, want, 0);
    head.take(0, buf.subarray(0, bytesRead));
    return head;
  }

  /** Opens the path; on the first open, applies `resumeFrom` (see ResumeOutcome). */
  private async openCurrent(): Promise<OpenFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const s = await handle.stat();
    const resume = this.options.resumeFrom;
    this.options.resumeFrom = undefined;
    if (resume && resume.inode === s.ino) {
      if (resume.offset > s.size) {
        this.resumeOutcome = { kind: 'missed', reason: `${this.path} is now ${s.size} bytes, shorter than the checkpointed ${resume.offset} (truncated while stopped)` };
      } else {
        const head = await FileFollower.readHead(handle, resume.offset);
        if (resume.head === undefined || head.fingerprint(resume.offset) === resume.head) {
          this.resumeOutcome = { kind: 'resumed', offset: resume.offset };
          return { handle, inode: s.ino, offset: resume.offset, head, drainOnly: false };
        }
        this.resumeOutcome = { kind: 'missed', reason: `${this.path} has the checkpointed inode but other first bytes (truncated and refilled, or a new file)` };
      }
    } else if (resume && resume.inode !== 0) {
      const rotated = await this.findRotated(resume);
      if (rotated) {
        // The rest of the rotated file first; the current file follows from 0.
        this.pendingCurrent = handle;
        return rotated;
      }
      this.resumeOutcome = { kind: 'missed', reason: `the checkpointed file (inode ${resume.inode}) is neither ${this.path} nor a file next to it any more` };
    }
    return { handle, inode: s.ino, offset: 0, head: new FileHead(), drainOnly: false };
  }

  /** The current path's handle, opened while a rotated file is drained first. */
  private pendingCurrent: FileHandle | undefined;

  /** Looks next to the path for the checkpointed inode (rotated by rename while we were stopped). */
  private async findRotated(resume: FollowPosition): Promise<OpenFile | undefined> {
    const dir = dirname(this.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return undefined;
    }
    for (const name of names) {
      if (name === basename(this.path)) continue;
      const candidate = join(dir, name);
      let st;
      try {
        st = await stat(candidate);
      } catch {
        continue;
      }
      if (!st.isFile() || st.ino !== resume.inode || st.size < resume.offset) continue;
      const handle = await open(candidate, 'r');
      const head = await FileFollower.readHead(handle, resume.offset);
      if (resume.head !== undefined && head.fingerprint(resume.offset) !== resume.head) {
        await handle.close();
        continue;
      }
      this.resumeOutcome = { kind: 'rotated', rotatedPath: candidate, offset: resume.offset };
      return { handle, inode: st.ino, offset: resume.offset, head, drainOnly: true };
    }
    return undefined;
  }

  private async *follow(): AsyncGenerator<Buffer> {
    const signal = this.options.signal;
    let file: OpenFile | undefined;
    // Never a buffer a consumer holds: replaced whenever it is handed out.
    let buf: Buffer | undefined;
    try {
      while (!signal?.aborted) {
        if (!file) {
          if (this.pendingCurrent) {
            const handle = this.pendingCurrent;
            this.pendingCurrent = undefined;
            file = { handle, inode: (await handle.stat()).ino, offset: 0, head: new FileHead(), drainOnly: false };
          } else {
            file = await this.openCurrent();
          }
          if (!file) {
            await this.sleep();
            continue;
          }
          if (this.segments.length === 0) this.options.onResume?.(this.resumeOutcome);
          this.inode = file.inode;
          this.offset = file.offset;
          this.startSegment(file);
        }
        buf ??= Buffer.allocUnsafe(CHUNK_BYTES);
        const { bytesRead } = await file.handle.read(buf, 0, CHUNK_BYTES, file.offset);
        if (bytesRead > 0) {
          let chunk: Buffer;
          if (bytesRead >= HAND_OUT_BYTES) {
            chunk = buf.subarray(0, bytesRead);
            buf = undefined;
          } else {
            chunk = Buffer.from(buf.subarray(0, bytesRead));
          }
          file.head.take(file.offset, chunk);
          file.offset += bytesRead;
          this.offset = file.offset;
          this.streamOffset += bytesRead;
          yield chunk;
          continue;
        }
        if (file.drainOnly) {
          await file.handle.close();
          file = undefined;
          continue;
        }
        // At the end of what we hold: has the path moved on?
        let current;
        try {
          current = await stat(this.path);
        } catch {
          current = undefined; // renamed away, the new file not created yet
        }
        if (current && current.ino !== file.inode) {
          // Renamed. The writer may have appended to the old file between our last read
          // and the rename: drain it to its end once more, then switch.
          this.renames++;
          file.drainOnly = true;
          continue;
        }
        if (current && current.size < file.offset) {
          this.truncations++;
          file.offset = 0;
          file.head = new FileHead();
          this.offset = 0;
          this.startSegment(file);
          continue;
        }
        await this.sleep();
      }
    } finally {
      await file?.handle.close();
      await this.pendingCurrent?.close();
    }
  }
}

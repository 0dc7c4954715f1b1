/**
 * `--events file:PATH`: follows a file like `tail -F`, across every kind of rotation,
 * reading each generation of the file whole, once, in order:
 * - rename + new file (Tetragon's own rotation, by lumberjack): the live file is renamed
 *   to `<name>-<UTC time>.log` (time as `2006-01-02T15-04-05.000`) beside it, optionally
 *   gzipped to `….log.gz` afterwards, and the oldest backups are deleted. The file being
 *   read is read to its end through the still-open descriptor; then every backup newer
 *   than it, in the order of their names (which is the order of rotation), decompressed
 *   when gzipped; then the new live file. So any number of rotations between two polls,
 *   or while the daemon was stopped, loses nothing as long as the backups are there.
 * - rename + new file under another name (logrotate `create`): the old file is drained,
 *   then the new one is read from 0 (only one rotation between polls is safe: other
 *   names are not recognised as backups);
 * - copy-truncate: the file shrinks below our position, so reading restarts at 0.
 *   Lines appended between the copy and the truncation are lost; that is inherent in
 *   copy-truncate, not in the follower.
 * A missing file is waited for (Tetragon may start after the daemon).
 *
 * Losses it cannot prevent are reported: a backup that was seen in the directory and
 * deleted (Tetragon's `export-file-max-backups`) before it was read, and the checkpointed
 * file gone while stopped, are told to `onMissed` with the (estimated) bytes lost.
 *
 * Positions. The chunks form one byte stream across files; a consumer counts bytes in
 * that stream ("stream offsets") and asks `positionAt` which file and file offset one
 * corresponds to, which is what a checkpoint stores. Offsets in a gzipped backup count
 * decompressed bytes. A position carries a fingerprint of the file's first bytes, so
 * that a restart does not resume inside a different file that happens to reuse the
 * inode, or a file that was truncated and refilled meanwhile, and finds a file again
 * after it was gzipped (a new inode).
 */
import { ChunkPool } from './exclusive-chunk.ts';
import { createHash } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { sleep } from '../core/sleep.ts';
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
/** lumberjack's backup time format, `2006-01-02T15-04-05.000`. */
const BACKUP_TIME = '\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}';

export interface FollowPosition {
  /** Inode of the file (0 before it exists). */
  inode: number;
  /** Byte offset in that file (decompressed bytes in a gzipped backup). */
  offset: number;
  /** sha256 (hex) of the file's first min(offset, 4096) bytes; checked when resuming. */
  head?: string;
  /** The file's name when it was opened: the live name, or a backup's (without `.gz`). */
  file?: string;
  /**
   * The newest backup that is older than this file ('' when none): on resume, the file
   * is looked for among the backups after it, and every later backup is read before the
   * live file. Absent in checkpoints of older versions.
   */
  after?: string;
}

/** What the follower did with `resumeFrom`, for the daemon's log. */
export type ResumeOutcome =
  | { kind: 'none' }
  | { kind: 'resumed'; offset: number }
  /** The checkpointed file had been rotated away: its rest is read first, from `rotatedPath`. */
  | { kind: 'rotated'; rotatedPath: string; offset: number }
  | { kind: 'missed'; reason: string };

/** A file the follower needed and could not read. */
export interface MissedFile {
  /** Its path (for the checkpointed file gone while stopped, the name it had). */
  file: string;
  /** Bytes not read: exact for a backup seen before it went, else an estimate (undefined: unknown). */
  bytes: number | undefined;
  estimated: boolean;
  reason: string;
}

export interface FollowOptions {
  /** How often to look for growth and rotation when at the end; default 200 ms. */
  pollMs?: number;
  /** Where a previous run stopped: used only if inode and fingerprint still match. */
  resumeFrom?: FollowPosition;
  /** Told once, when the file is first opened, what became of `resumeFrom`. */
  onResume?: (outcome: ResumeOutcome) => void;
  /** Told of every file needed and gone (also counted in `filesMissed`). */
  onMissed?: (missed: MissedFile) => void;
  signal?: AbortSignal;
}

/** The first bytes of one file as the follower read them. */
class FileHead {
  bytes = Buffer.alloc(0);
  /** The last fingerprint and the head length it covers: every checkpoint asks, and past the head it stays the same. */
  private memoLength = -1;
  private memo = '';

  /** Takes what of `data` (read at `fileOffset`) falls in the first HEAD_BYTES. */
  take(fileOffset: number, data: Buffer): void {
    if (fileOffset !== this.bytes.length || this.bytes.length >= HEAD_BYTES) return;
    this.bytes = Buffer.concat([this.bytes, data.subarray(0, HEAD_BYTES - this.bytes.length)]);
  }

  fingerprint(offset: number): string {
    const n = Math.min(offset, HEAD_BYTES, this.bytes.length);
    if (n !== this.memoLength) {
      this.memo = headFingerprint(this.bytes.subarray(0, n));
      this.memoLength = n;
    }
    return this.memo;
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
  file: string;
  after: string;
}

/** A backup in the directory, by its uncompressed name; both flags when gzip is under way. */
interface Backup {
  stem: string;
  log: boolean;
  gz: boolean;
}

/** Decompressed bytes of a gzipped backup, `skip` of them discarded first. */
class GzipReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly source: ReadStream;
  private readonly gunzip: Gunzip;
  private skip: number;

  constructor(handle: FileHandle, skip: number) {
    this.gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    this.source = handle.createReadStream({ highWaterMark: CHUNK_BYTES, autoClose: false, start: 0 });
    // pipeline, not pipe: a read error reaches the reader instead of going unheard.
    pipeline(this.source, this.gunzip, () => undefined);
    this.iterator = this.gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.skip = skip;
  }

  /** The next decompressed bytes; undefined at the end. Throws on a corrupt or short file. */
  async read(): Promise<Buffer | undefined> {
    for (;;) {
      const r = await this.iterator.next();
      if (r.done) return undefined;
      let chunk = r.value;
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length);
        this.skip -= n;
        chunk = chunk.subarray(n);
      }
      if (chunk.length > 0) return chunk;
    }
  }

  /** Stops reading; the caller closes the handle afterwards. */
  async close(): Promise<void> {
    this.source.destroy();
    this.gunzip.destroy();
    if (!this.source.closed) await new Promise<void>((resolve) => this.source.once('close', () => resolve()));
  }
}

interface OpenFile {
  handle: FileHandle;
  /** Set for a gzipped backup: bytes come from here, not from `handle`. */
  gzip?: GzipReader;
  inode: number;
  offset: number;
  head: FileHead;
  /** The live name, or the backup's stem. */
  file: string;
  /** The newest backup older than this file. */
  after: string;
  /** A backup, or a rotated live file: read to its end only, then the next file. */
  drainOnly: boolean;
  /** The live file (as opposed to a backup). */
  live: boolean;
}

export class FileFollower implements ByteInput {
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
  /** Rotations passed (each backup read or live file renamed), and copy-truncations. */
  renames = 0;
  truncations = 0;
  /** Files needed and gone, and their bytes (exact or estimated; unknown ones add nothing). */
  filesMissed = 0;
  bytesMissed = 0;
  resumeOutcome: ResumeOutcome = { kind: 'none' };
  /** Directory surveys finished (lets a test wait for one instead of sleeping). */
  surveys = 0;
  private inode = 0;
  private offset = 0;
  private streamOffset = 0;
  private segments: Segment[] = [];
  /** The newest backup read or known older than what is read now ('' none). */
  private floor = '';
  /** Backups newer than `floor` seen in the directory, with their size, until read. */
  private readonly seen = new Map<string, { bytes: number | undefined; ours: boolean }>();
  private readonly backupPattern: RegExp;
  private readonly dir: string;
  private readonly liveName: string;
  /** The file being read, for the directory survey running beside the reads. */
  private current: OpenFile | undefined;
  private surveying: Promise<Backup[]> | undefined;

  constructor(
    readonly path: string,
    private readonly options: FollowOptions = {},
  ) {
    this.name = path;
    this.dir = dirname(path);
    this.liveName = basename(path);
    const ext = extname(this.liveName);
    const prefix = this.liveName.slice(0, this.liveName.length - ext.length) + '-';
    this.backupPattern = new RegExp(`^${escapeRegExp(prefix)}${BACKUP_TIME}${escapeRegExp(ext)}(\\.gz)?$`);
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
        return { inode: seg.inode, offset, head: seg.head.fingerprint(offset), file: seg.file, after: seg.after };
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
    this.segments.push({
      streamStart: this.streamOffset,
      inode: file.inode,
      fileStart: file.offset,
      head: file.head,
      file: file.file,
      after: file.after,
    });
  }

  private sleep(): Promise<void> {
    return sleep(this.options.pollMs ?? 200, this.options.signal);
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

  /** The first `upTo` (at most 4096) decompressed bytes of a gzip file; undefined if unreadable. */
  private static async gzipHead(path: string, upTo: number): Promise<Buffer | undefined> {
    let handle: FileHandle | undefined;
    let reader: GzipReader | undefined;
    try {
      handle = await open(path, 'r');
      reader = new GzipReader(handle, 0);
      const parts: Buffer[] = [];
      let n = 0;
      while (n < Math.min(upTo, HEAD_BYTES)) {
        const chunk = await reader.read();
        if (!chunk) break;
        parts.push(chunk);
        n += chunk.length;
      }
      return Buffer.concat(parts).subarray(0, Math.min(upTo, HEAD_BYTES));
    } catch {
      return undefined;
    } finally {
      await reader?.close();
      await handle?.close();
    }
  }

  /** A gzip file's decompressed size from its trailer (ISIZE, modulo 2^32: exact below 4 GiB). */
  private static async gzipSize(path: string): Promise<number | undefined> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
      const { size } = await handle.stat();
      if (size < 18) return undefined;
      const buf = Buffer.alloc(4);
      await handle.read(buf, 0, 4, size - 4);
      return buf.readUInt32LE(0);
    } catch {
      return undefined;
    } finally {
      await handle?.close();
    }
  }

  /** The backups beside the live file, oldest first (lumberjack's names sort by time). */
  private async listBackups(): Promise<Backup[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const byStem = new Map<string, Backup>();
    for (const name of names) {
      if (!this.backupPattern.test(name)) continue;
      const gz = name.endsWith('.gz');
      const stem = gz ? name.slice(0, -3) : name;
      const b = byStem.get(stem) ?? { stem, log: false, gz: false };
      if (gz) b.gz = true;
      else b.log = true;
      byStem.set(stem, b);
    }
    return [...byStem.values()].sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  }

  /** Does `b` hold the content of the open file `f` (by inode, or gzipped: by first bytes and size)? */
  private async holds(b: Backup, f: OpenFile): Promise<boolean> {
    if (b.log) {
      try {
        return (await stat(join(this.dir, b.stem))).ino === f.inode;
      } catch {
        // gzipped and removed since the listing: compare the gzip below
      }
    }
    const size = f.gzip ? undefined : (await f.handle.stat()).size;
    const head = f.gzip ? f.head.bytes : (await FileFollower.readHead(f.handle, HEAD_BYTES)).bytes;
    const gzPath = join(this.dir, `${b.stem}.gz`);
    const [theirs, theirSize] = await Promise.all([FileFollower.gzipHead(gzPath, head.length), FileFollower.gzipSize(gzPath)]);
    if (!theirs || !theirs.equals(head)) return false;
    return size === undefined || theirSize === undefined || theirSize === size % 2 ** 32;
  }

  /**
   * Notes the backups newer than `floor` now in the directory, so that one deleted before
   * it is read is reported with its size. Runs on every poll, beside the reads, so that
   * backups are seen even while the reader waits for a slow sink.
   */
  private survey(): Promise<Backup[]> {
    this.surveying ??= this.surveyOnce().finally(() => (this.surveying = undefined));
    return this.surveying;
  }

  /**
   * A survey that starts now: a listing begun before a rotation the caller must see
   * (one in flight from the timer) would not show it.
   */
  private async freshSurvey(): Promise<Backup[]> {
    while (this.surveying) await this.surveying.catch(() => undefined);
    return this.survey();
  }

  private async surveyOnce(): Promise<Backup[]> {
    const backups = await this.listBackups();
    for (const b of backups) {
      if (b.stem <= this.floor || this.seen.has(b.stem)) continue;
      const bytes = b.log
        ? await stat(join(this.dir, b.stem)).then(
            (s) => s.size,
            () => undefined,
          )
        : await FileFollower.gzipSize(join(this.dir, `${b.stem}.gz`));
      const cur = this.current;
      const ours = cur !== undefined && cur.live && (await this.holds(b, cur).catch(() => false));
      this.seen.set(b.stem, { bytes, ours });
    }
    this.surveys++;
    return backups;
  }

  /** Reports backups seen newer than `floor` that are gone now (`present` the current listing). */
  private reportGone(present: readonly Backup[]): void {
    const here = new Set(present.map((b) => b.stem));
    for (const [stem, s] of this.seen) {
      if (stem <= this.floor) {
        this.seen.delete(stem);
        continue;
      }
      if (here.has(stem)) continue;
      this.seen.delete(stem);
      if (s.ours) continue;
      this.missed({
        file: join(this.dir, stem),
        bytes: s.bytes,
        estimated: false,
        reason: 'a backup of the events file was deleted before it was read (Tetragon keeps export-file-max-backups of them)',
      });
    }
  }

  private missed(m: MissedFile): void {
    this.filesMissed++;
    this.bytesMissed += m.bytes ?? 0;
    this.options.onMissed?.(m);
  }

  /** Opens a backup (the uncompressed file if it is still there); undefined when gone. */
  private async openBackup(b: Backup, offset: number, after: string): Promise<OpenFile | undefined> {
    for (const gz of b.log ? [false, true] : [true]) {
      let handle: FileHandle;
      try {
        handle = await open(join(this.dir, gz ? `${b.stem}.gz` : b.stem), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const inode = (await handle.stat()).ino;
      if (!gz)
        return {
          handle,
          inode,
          offset,
          head: await FileFollower.readHead(handle, offset),
          file: b.stem,
          after,
          drainOnly: true,
          live: false,
        };
      const gzip = new GzipReader(handle, offset);
      const head = new FileHead();
      const headBytes = await FileFollower.gzipHead(join(this.dir, `${b.stem}.gz`), offset);
      if (headBytes) head.take(0, headBytes);
      return { handle, gzip, inode, offset, head, file: b.stem, after, drainOnly: true, live: false };
    }
    return undefined;
  }

  private async openLive(): Promise<FileHandle | undefined> {
    try {
      return await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * The next file to read after `floor`: the oldest backup newer than it, else the live
   * file. The live file is opened before the directory is listed, so a rotation in
   * between shows in the listing (and the live handle is dropped), never goes unseen.
   * Waits while there is neither; undefined once stopped.
   */
  private async nextFile(): Promise<OpenFile | undefined> {
    while (!this.options.signal?.aborted) {
      const handle = await this.openLive();
      const present = await this.freshSurvey();
      this.reportGone(present);
      const newer = present.filter((b) => b.stem > this.floor);
      if (newer.length > 0) {
        await handle?.close();
        const b = newer[0]!;
        const file = await this.openBackup(b, 0, this.floor);
        const seen = this.seen.get(b.stem);
        this.seen.delete(b.stem);
        if (seen?.ours) {
          // The live file read before, found here by the survey: read already.
          await file?.gzip?.close();
          await file?.handle.close();
          this.floor = b.stem;
          continue;
        }
        if (!file) {
          this.missed({
            file: join(this.dir, b.stem),
            bytes: seen?.bytes,
            estimated: false,
            reason: 'a backup of the events file was deleted before it was read',
          });
          this.floor = b.stem;
          continue;
        }
        this.renames++;
        return file;
      }
      if (handle)
        return {
          handle,
          inode: (await handle.stat()).ino,
          offset: 0,
          head: new FileHead(),
          file: this.liveName,
          after: this.floor,
          drainOnly: false,
          live: true,
        };
      await this.sleep();
    }
    return undefined;
  }

  /** Where the reading of `resume` continues, or why it cannot. */
  private async findResumed(resume: FollowPosition): Promise<OpenFile | { missed: string; gone: boolean }> {
    const handle = await this.openLive();
    const after = resume.after ?? '';
    // The live file under the checkpointed inode but with other content: truncated (or
    // refilled) while stopped, or a new live file that reuses the inode of one rotated
    // and deleted; the backups tell which.
    let changed: string | undefined;
    if (handle) {
      const s = await handle.stat();
      if (s.ino === resume.inode && (resume.file === undefined || resume.file === this.liveName)) {
        const head = resume.offset > s.size ? undefined : await FileFollower.readHead(handle, resume.offset);
        if (head && (resume.head === undefined || head.fingerprint(resume.offset) === resume.head)) {
          this.resumeOutcome = { kind: 'resumed', offset: resume.offset };
          return { handle, inode: s.ino, offset: resume.offset, head, file: this.liveName, after, drainOnly: false, live: true };
        }
        changed = head
          ? `${this.path} has the checkpointed inode but other first bytes (truncated and refilled, or a new file)`
          : `${this.path} is now ${s.size} bytes, shorter than the checkpointed ${resume.offset} (truncated while stopped)`;
      }
      await handle.close();
    }
    // Rotated while stopped: the file is the checkpointed backup, or the oldest backup
    // after `after` with the same inode (uncompressed) or the same first bytes (gzipped).
    const backups = (await this.listBackups()).filter((b) => b.stem > after);
    for (const b of backups) {
      if (resume.file !== undefined && resume.file !== this.liveName && b.stem !== resume.file) continue;
      const file = await this.openBackup(b, resume.offset, after);
      if (!file) continue;
      const matches = file.gzip
        ? resume.head === undefined || file.head.fingerprint(resume.offset) === resume.head
        : file.inode === resume.inode &&
          (await file.handle.stat()).size >= resume.offset &&
          (resume.head === undefined || file.head.fingerprint(resume.offset) === resume.head);
      if (matches) {
        this.resumeOutcome = { kind: 'rotated', rotatedPath: join(this.dir, file.gzip ? `${b.stem}.gz` : b.stem), offset: resume.offset };
        return file;
      }
      await file.gzip?.close();
      await file.handle.close();
    }
    if (changed !== undefined && backups.length === 0) return { missed: changed, gone: false };
    return {
      missed: `the checkpointed file (${resume.file ?? this.liveName}, inode ${resume.inode}) is neither ${this.path} nor a backup next to it any more`,
      gone: true,
    };
  }

  /** The first file to read: the checkpointed one when it is still there, else the next. */
  private async start(): Promise<OpenFile | undefined> {
    const resume = this.options.resumeFrom;
    const newest = async (): Promise<string> => (await this.listBackups()).at(-1)?.stem ?? '';
    if (!resume || resume.inode === 0) {
      // A first start reads the live file only: the backups before it are history.
      this.floor = await newest();
      return this.nextFile();
    }
    const found = await this.findResumed(resume);
    if (!('missed' in found)) {
      // A backup moves the floor past itself once read (`finish`).
      this.floor = found.after;
      return found;
    }
    this.resumeOutcome = { kind: 'missed', reason: found.missed };
    if (found.gone) {
      // Gone while stopped (Tetragon's backup limit): what was left of it is lost. Its
      // size is unknown; the backups beside it are about as big (size-based rotation).
      const sizes = await Promise.all(
        (await this.listBackups()).map((b) =>
          b.log
            ? stat(join(this.dir, b.stem)).then(
                (s) => s.size,
                () => 0,
              )
            : FileFollower.gzipSize(join(this.dir, `${b.stem}.gz`)).then((n) => n ?? 0),
        ),
      );
      const typical = Math.max(0, ...sizes);
      this.missed({
        file: join(this.dir, resume.file ?? this.liveName),
        bytes: typical > 0 ? Math.max(0, typical - resume.offset) : undefined,
        estimated: true,
        reason: found.missed,
      });
    }
    // Old checkpoints do not say which backups are older: only the live file, as before.
    this.floor = resume.after ?? (await newest());
    return this.nextFile();
  }

  private async *follow(): AsyncGenerator<Buffer> {
    const signal = this.options.signal;
    let file: OpenFile | undefined;
    // Never a buffer a consumer holds: replaced whenever it is handed out.
    let buf: Buffer | undefined;
    // Buffers handed out come back here once the consumer is done with them
    // (sources/exclusive-chunk.ts): this one, the one read ahead, one not handed back yet.
    const pool = new ChunkPool(CHUNK_BYTES, 3);
    // After a full chunk, the next read of the same file is already under way while the
    // consumer works on this one (a backlog is read at the decoder's pace, not the
    // decoder's plus a round trip to the thread pool per megabyte). It is the read the
    // next turn would make, made earlier: used only if that turn reads the same file at
    // the same offset, else waited for and dropped.
    let ahead: { file: OpenFile; offset: number; buf: Buffer; bytesRead: Promise<number> } | undefined;
    const dropAhead = async (): Promise<void> => {
      const pending = ahead;
      ahead = undefined;
      await pending?.bytesRead.catch(() => 0);
    };
    const surveys = setInterval(() => void this.survey().catch(() => undefined), this.options.pollMs ?? 200);
    surveys.unref();
    let first = true;
    try {
      while (!signal?.aborted) {
        if (!file) {
          file = first ? await this.start() : await this.nextFile();
          if (!file) break;
          if (first) this.options.onResume?.(this.resumeOutcome);
          first = false;
          this.current = file;
          this.inode = file.inode;
          this.offset = file.offset;
          this.startSegment(file);
        }
        let chunk: Buffer | undefined;
        if (file.gzip) {
          try {
            chunk = await file.gzip.read();
          } catch (err) {
            this.missed({
              file: join(this.dir, `${file.file}.gz`),
              bytes: undefined,
              estimated: true,
              reason: `cannot decompress after ${file.offset} bytes: ${(err as Error).message}`,
            });
            chunk = undefined;
          }
        } else {
          let bytesRead: number;
          if (ahead && ahead.file === file && ahead.offset === file.offset) {
            // Its buffer becomes the reusable one; the one we had stays free for later.
            const { buf: aheadBuf, bytesRead: pending } = ahead;
            ahead = undefined;
            bytesRead = await pending;
            buf = aheadBuf;
          } else {
            await dropAhead();
            buf ??= pool.buffer();
            bytesRead = (await file.handle.read(buf, 0, CHUNK_BYTES, file.offset)).bytesRead;
          }
          if (bytesRead >= HAND_OUT_BYTES) {
            chunk = pool.lend(buf, bytesRead);
            buf = undefined;
          } else if (bytesRead > 0) {
            chunk = Buffer.from(buf.subarray(0, bytesRead));
          }
          if (bytesRead === CHUNK_BYTES) {
            const next = pool.buffer();
            const handle = file.handle;
            const at = file.offset + bytesRead;
            ahead = { file, offset: at, buf: next, bytesRead: handle.read(next, 0, CHUNK_BYTES, at).then((r) => r.bytesRead) };
            // Not awaited until used or dropped: a failure must not go unhandled meanwhile.
            ahead.bytesRead.catch(() => undefined);
          }
        }
        if (chunk) {
          file.head.take(file.offset, chunk);
          file.offset += chunk.length;
          this.offset = file.offset;
          this.streamOffset += chunk.length;
          yield chunk;
          continue;
        }
        if (file.drainOnly) {
          await this.finish(file);
          file = undefined;
          this.current = undefined;
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
      clearInterval(surveys);
      await dropAhead();
      await file?.gzip?.close();
      await file?.handle.close();
    }
  }

  /**
   * A file read to its end: moves `floor` past it. A rotated live file is one of the
   * backups newer than `floor` now (normally the oldest; older ones are gone): found by
   * inode or, gzipped, by its first bytes; when it is gone too, nothing of it is lost
   * (it was read through the open descriptor) and every backup newer than `floor` is next.
   */
  private async finish(file: OpenFile): Promise<void> {
    try {
      if (!file.live) {
        this.floor = file.file;
        return;
      }
      const present = await this.freshSurvey();
      for (const b of present) {
        if (b.stem <= this.floor) continue;
        if (await this.holds(b, file).catch(() => false)) {
          this.floor = b.stem;
          this.seen.delete(b.stem);
          break;
        }
      }
    } finally {
      await file.gzip?.close();
      await file.handle.close();
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

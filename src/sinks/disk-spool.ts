/**
 * The on-disk spool: a directory of append-only segment files, so that points outlive an
 * InfluxDB outage and a restart of kovenant.
 *
 * Framing. Each record is a 16-byte header — magic `KSP1`, payload length, point count,
 * CRC-32 of (point count, payload) — followed by the payload (line protocol, UTF-8). A
 * crash can leave a torn record at the end of the segment being written; the length and
 * CRC detect it, and it is cut off and logged, never parsed as line protocol. A corrupt
 * record inside a segment (bad disk, a stray write) costs only itself: recovery
 * resynchronises on the next valid record header, reports the points lost in between as
 * dropped and rewrites the segment without them. Appends after a restart always go to a
 * new segment.
 *
 * Durability. With `fsync: 'always'` (the default) `append` resolves after `fdatasync`, so
 * a resolved `write()` survives power loss; `'never'` leaves it to the page cache (survives
 * a kovenant crash, not a kernel crash) for disks where a sync per window is too slow.
 *
 * Progress. `cursor.json` (segment, offset) is rewritten atomically after every ack, and
 * fully sent segments are deleted. A crash between sending and the cursor write resends
 * that batch, which is harmless: window timestamps are deterministic, so InfluxDB
 * overwrites the same points.
 *
 * Bound. When the files exceed `maxBytes` the oldest whole segments are deleted and their
 * unsent points reported as dropped. Segments are a fraction of the bound so that a drop
 * loses a small slice, not everything.
 *
 * Full disk. An append that fails for lack of space (ENOSPC, EDQUOT, a short write) cuts
 * its torn bytes off and tries once more in a new segment; then it deletes the oldest segment (its unsent points reported as dropped)
 * and tries again; with nothing left to delete the new record itself is dropped. Either
 * way the process goes on and the sender keeps draining what is spooled. Segments then
 * shrink to an eighth of what the disk held, so that later drops lose less.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rm, stat, truncate, readFile, type FileHandle } from 'node:fs/promises';
import { fsErrorReason, InputError } from '../core/input-error.ts';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { syncDirectory, writeFileAtomic } from '../state/atomic-file.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { DropListener, Spool, SpoolBatch } from './spool.ts';

const MAGIC = 0x4b535031;
export const RECORD_HEADER_BYTES = 16;
const SEGMENT_PATTERN = /^seg-(\d{16})\.ksp$/;
const CURSOR_FILE = 'cursor.json';

export interface DiskSpoolOptions {
  dir: string;
  maxBytes: number;
  /** Segment rotation size; defaults to a sixteenth of the bound, between 64 KiB and 16 MiB. */
  segmentBytes?: number;
  fsync?: 'always' | 'never';
  onDrop: DropListener;
  log?: Logger;
}

interface Segment {
  id: number;
  path: string;
  /** Bytes of valid records. */
  size: number;
  points: number;
  /** Points before `readOffset` (sent and acknowledged). */
  ackedPoints: number;
  /** Offset of the first unacknowledged record (only meaningful for the head segment). */
  readOffset: number;
  /** Process-local seq of the first record, and of each record by offset, for waiters. */
  seqByOffset: Map<number, number>;
}

const MIN_SEGMENT_BYTES = 64 * 1024;

/** Out of space: the disk or a quota is full (a short write is how a full disk often shows first). */
function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'ESHORTWRITE';
}

function diskFullWhat(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'ENOSPC';
}

function segmentName(id: number): string {
  return `seg-${String(id).padStart(16, '0')}.ksp`;
}

export function frameRecord(body: string, points: number): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(payload.length, 4);
  header.writeUInt32LE(points, 8);
  header.writeUInt32LE(recordCrc(points, payload), 12);
  return Buffer.concat([header, payload]);
}

function recordCrc(points: number, payload: Buffer): number {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32LE(points, 0);
  return crc32(payload, crc32(p));
}

interface ParsedRecord {
  offset: number;
  end: number;
  points: number;
  payload: Buffer;
}

/**
 * Records in `buf` (which starts at file offset `base`), stopping at the first incomplete
 * or corrupt one. `corrupt` is true at a bad record (magic or checksum), false at a torn
 * record or the end of the buffer.
 */
export function parseRecords(buf: Buffer, base: number): { records: ParsedRecord[]; validEnd: number; corrupt: boolean } {
  const records: ParsedRecord[] = [];
  let pos = 0;
  while (pos + RECORD_HEADER_BYTES <= buf.length) {
    if (buf.readUInt32LE(pos) !== MAGIC) return { records, validEnd: base + pos, corrupt: true };
    const len = buf.readUInt32LE(pos + 4);
    const points = buf.readUInt32LE(pos + 8);
    const crc = buf.readUInt32LE(pos + 12);
    const end = pos + RECORD_HEADER_BYTES + len;
    if (end > buf.length) return { records, validEnd: base + pos, corrupt: false };
    const payload = buf.subarray(pos + RECORD_HEADER_BYTES, end);
    if (recordCrc(points, payload) !== crc) return { records, validEnd: base + pos, corrupt: true };
    records.push({ offset: base + pos, end: base + end, points, payload });
    pos = end;
  }
  return { records, validEnd: base + pos, corrupt: false };
}

/** Bytes of a segment no valid record covers, found by `scanSegment`. */
export interface SpoolGap {
  offset: number;
  bytes: number;
  /** Points of the records in the gap: read from their headers, else estimated. */
  points: number;
  estimated: boolean;
}

const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(MAGIC, 0);

/** Whether a whole valid record (magic, length within the buffer, CRC) starts at `pos`. */
function validRecordAt(buf: Buffer, pos: number): boolean {
  if (pos + RECORD_HEADER_BYTES > buf.length || buf.readUInt32LE(pos) !== MAGIC) return false;
  const end = pos + RECORD_HEADER_BYTES + buf.readUInt32LE(pos + 4);
  return (
    end <= buf.length && recordCrc(buf.readUInt32LE(pos + 8), buf.subarray(pos + RECORD_HEADER_BYTES, end)) === buf.readUInt32LE(pos + 12)
  );
}

/**
 * Points of a corrupt stretch [from, to): the headers that still chain exactly through
 * it say how many (a flipped payload byte leaves its header intact); where they do not,
 * the bytes left are converted at the segment's mean bytes per point, rounded up.
 */
function gapPoints(buf: Buffer, from: number, to: number, bytesPerPoint: number): { points: number; estimated: boolean } {
  let points = 0;
  let pos = from;
  while (pos + RECORD_HEADER_BYTES <= to && buf.readUInt32LE(pos) === MAGIC) {
    const end = pos + RECORD_HEADER_BYTES + buf.readUInt32LE(pos + 4);
    if (end > to) break;
    points += buf.readUInt32LE(pos + 8);
    pos = end;
  }
  if (pos >= to) return { points, estimated: false };
  return { points: points + Math.max(1, Math.ceil((to - pos) / bytesPerPoint)), estimated: true };
}

/**
 * Every valid record of a segment, resynchronising after a corrupt one on the next
 * offset where a valid record starts. A torn record at the very end (a crash while
 * appending) is not a gap: its append never resolved.
 */
export function scanSegment(buf: Buffer): { records: ParsedRecord[]; gaps: SpoolGap[]; validEnd: number } {
  const records: ParsedRecord[] = [];
  const corrupt: Array<{ from: number; to: number }> = [];
  let pos = 0;
  for (;;) {
    const parsed = parseRecords(buf.subarray(pos), pos);
    records.push(...parsed.records);
    if (!parsed.corrupt) return finish(parsed.validEnd);
    let next = parsed.validEnd + 1;
    for (next = buf.indexOf(MAGIC_BYTES, next); next >= 0 && !validRecordAt(buf, next); next = buf.indexOf(MAGIC_BYTES, next + 1));
    corrupt.push({ from: parsed.validEnd, to: next < 0 ? buf.length : next });
    if (next < 0) return finish(buf.length);
    pos = next;
  }
  function finish(validEnd: number) {
    let bytes = 0;
    let points = 0;
    for (const r of records) {
      bytes += r.end - r.offset;
      points += r.points;
    }
    const bytesPerPoint = points > 0 ? bytes / points : 200;
    const gaps = corrupt.map(({ from, to }) => ({ offset: from, bytes: to - from, ...gapPoints(buf, from, to, bytesPerPoint) }));
    return {
      records,
      gaps,
      validEnd: corrupt.length && validEnd === buf.length && corrupt.at(-1)!.to === buf.length ? corrupt.at(-1)!.from : validEnd,
    };
  }
}

export class DiskSpool implements Spool {
  readonly durable = true;
  readonly location: string;
  private readonly segments: Segment[] = [];
  private writer: FileHandle | undefined;
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private segmentBytes: number;
  private diskFullLogged = false;
  /** The newest segment id used: ids never go back, even when every segment was deleted. */
  private highestId = 0;
  private closed = false;

  private constructor(private readonly options: DiskSpoolOptions) {
    this.location = options.dir;
    this.segmentBytes = options.segmentBytes ?? Math.max(MIN_SEGMENT_BYTES, Math.min(16 * 1024 * 1024, Math.floor(options.maxBytes / 16)));
  }

  /** Opens (creating) the directory and resumes whatever a previous run left unsent. */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    const spool = new DiskSpool(options);
    await spool.recover();
    return spool;
  }

  private async recover(): Promise<void> {
    const { dir, log } = this.options;
    try {
      await mkdir(dir, { recursive: true });
      // A read-only mount lets mkdir of an existing directory pass; the first append would fail.
      await access(dir, constants.W_OK);
    } catch (err) {
      const why = fsErrorReason(err, { EEXIST: 'exists and is not a directory' });
      throw new InputError(
        `--spool-dir ${dir}: cannot use it as the spool: ${why}`,
        'give --spool-dir a writable directory (it is created if missing)',
      );
    }
    const ids = (await readdir(dir))
      .map((name) => SEGMENT_PATTERN.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    let cursor = await this.readCursor();
    for (const id of ids) {
      const path = join(dir, segmentName(id));
      if (cursor && id < cursor.segment) {
        await rm(path, { force: true });
        continue;
      }
      const buf = await readFile(path);
      let parsed = scanSegment(buf);
      if (parsed.gaps.length) {
        parsed = await this.repairSegment(path, buf, parsed, cursor && id === cursor.segment ? cursor.offset : 0);
        if (cursor && id === cursor.segment) cursor = { segment: id, offset: 0 };
      } else if (parsed.validEnd < buf.length) {
        const lost = buf.length - parsed.validEnd;
        log?.warn(
          { spool: dir, segment: path, offset: parsed.validEnd, bytes: lost },
          `spool: a torn record (crash while writing); cutting ${lost} bytes off the segment`,
        );
        await truncate(path, parsed.validEnd);
      }
      const seg: Segment = { id, path, size: parsed.validEnd, points: 0, ackedPoints: 0, readOffset: 0, seqByOffset: new Map() };
      for (const r of parsed.records) {
        seg.points += r.points;
        seg.seqByOffset.set(r.offset, ++this.seq);
      }
      if (cursor && id === cursor.segment) {
        // Resume after the last acknowledged record, if the cursor still names a record boundary.
        if (cursor.offset === seg.size || seg.seqByOffset.has(cursor.offset)) {
          seg.readOffset = cursor.offset;
          for (const r of parsed.records) if (r.offset < cursor.offset) seg.ackedPoints += r.points;
        }
      }
      if (seg.size === 0 || seg.readOffset === seg.size) {
        await rm(path, { force: true });
        continue;
      }
      this.segments.push(seg);
    }
    this.highestId = ids.at(-1) ?? 0;
    const pending = this.pendingPoints();
    if (pending)
      log?.info(
        { spool: dir, points: pending, bytes: this.bytes(), segments: this.segments.length },
        'spool: resuming unsent points from a previous run',
      );
  }

  /**
   * Rewrites a segment with corrupt stretches as its valid records alone (atomically),
   * reporting the unsent points of the stretches as dropped. Offsets change, so the
   * records before `ackedBefore` (the cursor's offset) are left out and the cursor
   * moves to the segment's start.
   */
  private async repairSegment(
    path: string,
    buf: Buffer,
    scanned: ReturnType<typeof scanSegment>,
    ackedBefore: number,
  ): Promise<ReturnType<typeof scanSegment>> {
    const { dir, log } = this.options;
    const unsentGaps = scanned.gaps.filter((g) => g.offset + g.bytes > ackedBefore);
    const lost = unsentGaps.reduce((n, g) => n + g.points, 0);
    const estimated = unsentGaps.some((g) => g.estimated);
    const kept = scanned.records.filter((r) => r.offset >= ackedBefore);
    const body = Buffer.concat(kept.map((r) => buf.subarray(r.offset, r.end)));
    await writeFileAtomic(path, body, { sync: (this.options.fsync ?? 'always') === 'always' });
    const id = Number(SEGMENT_PATTERN.exec(path.slice(path.lastIndexOf('/') + 1))?.[1]);
    if (ackedBefore > 0) await this.writeCursor(id, 0);
    log?.warn(
      { spool: dir, segment: path, gaps: scanned.gaps.map((g) => ({ offset: g.offset, bytes: g.bytes })), keptRecords: kept.length },
      `spool: corrupt records in a segment; resynchronised on the next valid records, ${kept.length} records kept`,
    );
    if (lost > 0) {
      this.options.onDrop({
        points: lost,
        bytes: unsentGaps.reduce((n, g) => n + g.bytes, 0),
        reason: `spool segment ${path} was corrupt: ${estimated ? 'about ' : ''}${lost} unsent points unreadable`,
      });
    }
    let offset = 0;
    const records = kept.map((r) => {
      const moved = { ...r, offset, end: offset + (r.end - r.offset) };
      offset = moved.end;
      return moved;
    });
    return { records, gaps: [], validEnd: offset };
  }

  private async readCursor(): Promise<{ segment: number; offset: number } | undefined> {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(this.options.dir, CURSOR_FILE), 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'segment' in parsed && 'offset' in parsed) {
        const { segment, offset } = parsed;
        if (typeof segment === 'number' && typeof offset === 'number') return { segment, offset };
      }
      this.options.log?.warn(
        { spool: this.options.dir },
        'spool: cursor.json is not {segment, offset}; resending the oldest segment from its start',
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.log?.warn(
          { spool: this.options.dir, err: (err as Error).message },
          'spool: unreadable cursor.json; resending the oldest segment from its start',
        );
      }
    }
    return undefined;
  }

  /**
   * Not fsynced: after a power loss an older cursor only sends acknowledged records
   * again, and windows overwrite themselves in InfluxDB.
   */
  private async writeCursor(segment: number, offset: number): Promise<void> {
    try {
      await writeFileAtomic(join(this.options.dir, CURSOR_FILE), JSON.stringify({ segment, offset }), { sync: false });
    } catch (err) {
      // A full disk must not stop the sender, which is what frees space. A stale cursor
      // only resends acknowledged records after a restart, which overwrite themselves.
      if (!isDiskFull(err)) throw err;
      if (!this.cursorFailureLogged) {
        this.cursorFailureLogged = true;
        this.options.log?.warn(
          { spool: this.options.dir, err: (err as Error).message },
          'spool: cannot save cursor.json (disk full); a restart would resend acknowledged points',
        );
      }
    }
  }
  private cursorFailureLogged = false;

  /** Appends are serialized: order on disk is order of `write()`. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  append(body: string, points: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error(`spool ${this.options.dir} is closed`));
    const attempt = async (): Promise<number> => {
      let active = this.segments.at(-1);
      if (!this.writer || !active || active.size >= this.segmentBytes) {
        await this.writer?.close();
        this.writer = undefined;
        const id = Math.max(active?.id ?? (await this.lastSegmentId()), this.highestId) + 1;
        await this.removeSentSegments();
        const path = join(this.options.dir, segmentName(id));
        this.writer = await open(path, 'a');
        this.highestId = id;
        active = { id, path, size: 0, points: 0, ackedPoints: 0, readOffset: 0, seqByOffset: new Map() };
        this.segments.push(active);
        if ((this.options.fsync ?? 'always') === 'always') await syncDirectory(this.options.dir);
      }
      const frame = frameRecord(body, points);
      await this.writeFrame(this.writer, frame, active);
      const seq = ++this.seq;
      active.seqByOffset.set(active.size, seq);
      active.size += frame.length;
      active.points += points;
      this.enforceBound();
      return seq;
    };
    return this.serialized(async () => {
      for (let failures = 0; ; failures++) {
        try {
          return await attempt();
        } catch (err) {
          if (!isDiskFull(err)) throw err;
          // Once more as it is: the torn bytes were cut off, and the space may be back.
          if (failures === 0) continue;
          if (!(await this.makeRoom(err as Error))) {
            this.options.onDrop({
              points,
              bytes: Buffer.byteLength(body) + RECORD_HEADER_BYTES,
              reason: `spool ${this.options.dir}: the disk is full (${diskFullWhat(err)}) and no spooled segment is left to delete`,
            });
            return ++this.seq;
          }
        }
      }
    });
  }

  /**
   * On a full disk: deletes the oldest segment with unsent points (the active one too
   * when it is the only one) and reports its points as dropped; false when there is none.
   */
  private async makeRoom(err: Error): Promise<boolean> {
    const held = this.bytes();
    this.segmentBytes = Math.max(MIN_SEGMENT_BYTES, Math.min(this.segmentBytes, Math.floor(held / 8)));
    if (!this.diskFullLogged) {
      this.diskFullLogged = true;
      this.options.log?.error(
        { spool: this.options.dir, spoolBytes: held, err: err.message },
        `spool: the disk is full at ${held} spooled bytes; dropping the oldest points to make room (segments now ${this.segmentBytes} bytes)`,
      );
    }
    // Sent segments first: deleting them loses nothing. Empty ones free nothing.
    const seg = this.segments.find((s) => s.size > 0 && s.readOffset >= s.size) ?? this.segments.find((s) => s.size > 0);
    if (!seg) return false;
    if (seg === this.segments.at(-1) && this.writer) {
      await this.writer.close().catch(() => undefined);
      this.writer = undefined;
    }
    this.segments.splice(this.segments.indexOf(seg), 1);
    await rm(seg.path, { force: true });
    const points = seg.points - seg.ackedPoints;
    if (points > 0) {
      this.options.onDrop({
        points,
        bytes: seg.size - seg.readOffset,
        reason: `spool ${this.options.dir}: the disk is full (${diskFullWhat(err)}): deleted the oldest segment`,
      });
    }
    return true;
  }

  /**
   * A failed or short write may leave part of a frame in the file. Later records must not
   * land after it (recovery would cut them off with the torn tail), so the segment is
   * closed for appends: the next append starts a new one, and the torn bytes stay past
   * `size`, where reads never look and recovery truncates them.
   */
  private async writeFrame(writer: FileHandle, frame: Buffer, segment: Segment): Promise<void> {
    try {
      const { bytesWritten } = await writer.write(frame, 0, frame.length);
      if (bytesWritten !== frame.length)
        throw Object.assign(new Error(`short write: ${bytesWritten} of ${frame.length} bytes`), { code: 'ESHORTWRITE' });
      if ((this.options.fsync ?? 'always') === 'always') await writer.datasync();
    } catch (err) {
      this.writer = undefined;
      // Torn bytes on a full disk hold the space the next attempt needs.
      if (isDiskFull(err)) await writer.truncate(segment.size).catch(() => undefined);
      await writer.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Segments sent to the end while they were being appended to are not deleted by `ack`;
   * without this they would pile up to the byte bound on a healthy system.
   */
  private async removeSentSegments(): Promise<void> {
    for (let seg = this.segments[0]; seg && seg.readOffset >= seg.size; seg = this.segments[0]) {
      this.segments.shift();
      await rm(seg.path, { force: true });
    }
  }

  /** A new file's directory entry must be synced too, or a power loss can lose the whole file. */
  /** Ids keep growing across runs even when every segment was deleted (the cursor names one). */
  private async lastSegmentId(): Promise<number> {
    const cursor = await this.readCursor();
    return cursor?.segment ?? 0;
  }

  private enforceBound(): void {
    let droppedPoints = 0;
    let droppedBytes = 0;
    let segments = 0;
    // The active segment is never dropped: rotation keeps it at most a sixteenth of the bound.
    while (this.bytes() > this.options.maxBytes && this.segments.length > 1) {
      const seg = this.segments.shift();
      if (!seg) break;
      droppedPoints += seg.points - seg.ackedPoints;
      droppedBytes += seg.size - seg.readOffset;
      segments++;
      // Not awaited (the bound runs inside append), but a failure must not crash the process.
      rm(seg.path, { force: true }).catch((err: unknown) => {
        this.options.log?.error(
          { spool: this.options.dir, segment: seg.path, err: (err as Error).message },
          'spool: cannot delete a dropped segment; its space stays in use',
        );
      });
    }
    if (droppedPoints) {
      this.options.onDrop({
        points: droppedPoints,
        bytes: droppedBytes,
        reason: `spool ${this.options.dir} over --spool-max-bytes ${this.options.maxBytes}: deleted the ${segments} oldest segment(s)`,
      });
    }
  }

  async readBatch(maxPoints: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    const seg = this.segments.find((s) => s.readOffset < s.size);
    if (!seg) return undefined;
    const want = Math.min(seg.size - seg.readOffset, Math.max(maxBytes, RECORD_HEADER_BYTES));
    let buf = await this.readAt(seg.path, seg.readOffset, want);
    let parsed = parseRecords(buf, seg.readOffset);
    if (!parsed.records.length && !parsed.corrupt) {
      // The first record is larger than the byte budget: read exactly it.
      const len = buf.readUInt32LE(4);
      buf = await this.readAt(seg.path, seg.readOffset, RECORD_HEADER_BYTES + len);
      parsed = parseRecords(buf, seg.readOffset);
    }
    if (!parsed.records.length) {
      throw new Error(
        `spool segment ${seg.path} is corrupt at offset ${seg.readOffset} (changed on disk while running?); move it away and restart`,
      );
    }
    const parts: string[] = [];
    let points = 0;
    let bytes = 0;
    let end = seg.readOffset;
    let lastSeq = 0;
    for (const r of parsed.records) {
      if (parts.length && (points + r.points > maxPoints || bytes + r.payload.length > maxBytes)) break;
      parts.push(r.payload.toString('utf8'));
      points += r.points;
      bytes += r.payload.length;
      end = r.end;
      lastSeq = seg.seqByOffset.get(r.offset) ?? lastSeq;
    }
    return { body: parts.join('\n'), points, lastSeq, position: { segment: seg.id, start: seg.readOffset, end } };
  }

  private async readAt(path: string, offset: number, length: number): Promise<Buffer> {
    // Asynchronous although segments are usually cached: a backlog read from a cold disk
    // must not stall the event loop (and with it the collection of new windows).
    const file = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  ack(batch: SpoolBatch): Promise<number> {
    return this.serialized(async () => {
      const seg = this.segments.find((s) => s.id === batch.position.segment);
      if (!seg || seg.readOffset !== batch.position.start) return 0;
      // Offsets were inserted in increasing order, so the acknowledged ones are at the front.
      for (const offset of seg.seqByOffset.keys()) {
        if (offset >= batch.position.end) break;
        seg.seqByOffset.delete(offset);
      }
      const points = batch.points;
      seg.readOffset = batch.position.end;
      seg.ackedPoints += points;
      const isActive = seg === this.segments.at(-1) && this.writer !== undefined;
      if (seg.readOffset >= seg.size && !isActive) {
        this.segments.splice(this.segments.indexOf(seg), 1);
        const next = this.segments[0];
        await this.writeCursor(next?.id ?? seg.id, next ? next.readOffset : seg.size);
        await rm(seg.path, { force: true });
      } else {
        await this.writeCursor(seg.id, seg.readOffset);
      }
      return points;
    });
  }

  pendingPoints(): number {
    let n = 0;
    for (const s of this.segments) n += s.points - s.ackedPoints;
    return n;
  }

  bytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  unsentBytes(): number {
    let n = 0;
    for (const s of this.segments) n += Math.max(0, s.size - s.readOffset);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serialized(async () => {
      await this.writer?.close();
      this.writer = undefined;
    });
  }
}

/** Bytes a directory's spool files use; for tests and `kovenant` diagnostics. */
export async function spoolFileBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir)) if (SEGMENT_PATTERN.test(name)) n += (await stat(join(dir, name))).size;
  return n;
}

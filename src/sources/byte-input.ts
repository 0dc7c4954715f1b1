/**
 * Opens an events input for streaming: a file path or `-` for stdin; gzip (a `.gz` name
 * or the gzip magic bytes) is decompressed on the fly. Opening fails early, with the
 * file named, so the CLI can exit 2 before any output.
 */
import { fstatSync, read } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { InputError } from '../core/input-error.ts';
import { ChunkPool } from './exclusive-chunk.ts';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const CHUNK_BYTES = 1024 * 1024;

export interface ByteInput {
  /** For messages: the path, or `stdin`. */
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
  /** Releases the file when the input is abandoned unread (a later setup step failed). */
  close?(): Promise<void>;
}

/**
 * Reads of a named file under way at once. Two: with one, the main thread of a 338 MB
 * replay still waited 35-57 ms for reads (the thread pool's read queues behind the
 * garbage collector's helpers on a 2-core node), with two 21-33 ms (three runs each,
 * an instrumented build).
 */
const FILE_READS_AHEAD = 2;

/** Fills `buf` from offset `at` of the input; how many bytes it read (0 at the end). */
export type Fill = (buf: Buffer, at: number) => Promise<number>;

/**
 * The input's bytes in 1 MB reads, each into a buffer of its own that is handed out as it
 * is (lent: a consumer done with it may hand it back, sources/exclusive-chunk.ts), the
 * next `depth` reads already under way. Hand-written rather than a ReadStream: its
 * async iterator hands out whatever is buffered, concatenating (copying) two reads
 * whenever the next one arrived first, which was 3% of a replay's CPU plus garbage.
 * With `depth` above 1, `fill` must read at the offset it is given (positional reads).
 */
export async function* readAhead(fill: Fill, depth: number): AsyncGenerator<Buffer> {
  let at = 0;
  let queue: Array<{ from: number; chunk: Promise<Buffer | undefined> }> = [];
  // Under way, the one handed out, and one the consumer has not handed back yet.
  const pool = new ChunkPool(CHUNK_BYTES, depth + 2);
  const issue = (): void => {
    const from = at;
    at += CHUNK_BYTES;
    const chunk = (async () => {
      const buf = pool.buffer();
      const bytesRead = await fill(buf, from);
      return bytesRead === 0 ? undefined : pool.lend(buf, bytesRead);
    })();
    queue.push({ from, chunk });
  };
  // An abandoned read must not reject unhandled, nor race the close that follows.
  const settle = (reads: typeof queue): Promise<unknown> => Promise.allSettled(reads.map((r) => r.chunk));
  try {
    for (let k = 0; k < depth; k++) issue();
    for (;;) {
      const next = queue.shift()!;
      const chunk = await next.chunk;
      if (!chunk) return;
      if (chunk.length < CHUNK_BYTES) {
        // A short read is the file's end as it was then: the reads beyond it may have
        // caught bytes appended since, past a gap. Read on from where this one ended.
        await settle(queue);
        queue = [];
        at = next.from + chunk.length;
      }
      while (queue.length < depth) issue();
      yield chunk;
    }
  } finally {
    await settle(queue);
  }
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  // Opened here, when reading starts, so that an input abandoned before (a bad snapshot
  // after the events opened fine) leaves no handle for the garbage collector to close.
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw InputError.fromFs(path, err);
  }
  try {
    yield* readAhead(async (buf, at) => (await handle.read(buf, 0, CHUNK_BYTES, at)).bytesRead, FILE_READS_AHEAD);
  } finally {
    await handle.close();
  }
}

/** A regular file redirected to stdin, read like a named file; fd 0 stays open (it is not ours). */
function redirectedStdinChunks(): AsyncGenerator<Buffer> {
  // One read at a time, from fd 0's own position (where the shell left it, not always
  // 0): a read's offset is the file position, so reads must not overlap.
  return readAhead(
    (buf) =>
      new Promise<number>((resolve, reject) =>
        read(0, buf, 0, CHUNK_BYTES, null, (err, bytesRead) => (err ? reject(InputError.fromFs('stdin', err)) : resolve(bytesRead))),
      ),
    1,
  );
}

async function* gunzipIfNeeded(name: string, stream: AsyncIterable<Buffer>, forceGzip: boolean): AsyncGenerator<Buffer> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const gzip = forceGzip || (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1);
  if (!gzip) {
    try {
      yield head;
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
    } finally {
      // A consumer that stops early: the source closes its file now, not on garbage collection.
      await iterator.return?.();
    }
    return;
  }
  // node:zlib only for compressed input: loading it cost every start ~2 ms.
  const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: CHUNK_BYTES });
  // Feed the compressed stream (first chunk included) with backpressure.
  const feed = (async () => {
    try {
      if (!gunzip.write(head)) await new Promise((r) => gunzip.once('drain', r));
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        if (!gunzip.write(r.value)) await new Promise((res) => gunzip.once('drain', res));
      }
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    throw new InputError(`${name}: cannot decompress: ${(err as Error).message}`, 'is the file a complete gzip file?');
  }
  await feed;
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

export async function openByteInput(path: string): Promise<ByteInput> {
  if (path === '-') {
    // A file redirected to stdin (`< export.jsonl`, a backlog) is read in 1 MB chunks
    // like a named file: process.stdin would read it 64 KB at a time, a round trip to
    // the thread pool per 30 events. A pipe or terminal stays with process.stdin, whose
    // reads can be cancelled at exit (a pending blocking read of fd 0 could not; a
    // regular file's read never blocks).
    const stream = isRegularFile(0) ? redirectedStdinChunks() : process.stdin;
    return { name: 'stdin', chunks: gunzipIfNeeded('stdin', stream, false) };
  }
  try {
    // Opened to fail early (missing, unreadable), read from the start by fileChunks.
    const handle = await open(path, 'r');
    const stat = await handle.stat().finally(() => handle.close());
    if (stat.isDirectory()) throw new InputError(`${path}: is a directory, expected an events file`);
    return { name: path, chunks: gunzipIfNeeded(path, fileChunks(path), path.endsWith('.gz')) };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw InputError.fromFs(path, err);
  }
}

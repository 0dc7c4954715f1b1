/**
 * Opens an events input for streaming: a file path or `-` for stdin; gzip (a `.gz` name
 * or the gzip magic bytes) is decompressed on the fly. Opening fails early, with the
 * file named, so the CLI can exit 2 before any output.
 */
import { fstatSync, read } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/input-error.ts';
import { markExclusive } from './exclusive-chunk.ts';

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
 * A file's bytes in 1 MB reads, each into a buffer of its own that is handed out as it
 * is, the next read already under way. Hand-written rather than a ReadStream: its
 * async iterator hands out whatever is buffered, concatenating (copying) two reads
 * whenever the next one arrived first, which was 3% of a replay's CPU plus garbage.
 * `fill` fills the buffer from the file's current position and says how many bytes it read.
 */
async function* readAhead(fill: (buf: Buffer) => Promise<number>): AsyncGenerator<Buffer> {
  const readChunk = async (): Promise<Buffer | undefined> => {
    const buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    const bytesRead = await fill(buf);
    return bytesRead === 0 ? undefined : markExclusive(bytesRead === CHUNK_BYTES ? buf : buf.subarray(0, bytesRead));
  };
  let next = readChunk();
  try {
    for (let chunk = await next; chunk; chunk = await next) {
      next = readChunk();
      yield chunk;
    }
  } finally {
    // An abandoned read ahead must not reject unhandled, nor race the close that follows.
    await next.catch(() => undefined);
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
    yield* readAhead(async (buf) => (await handle.read(buf, 0, CHUNK_BYTES, null)).bytesRead);
  } finally {
    await handle.close();
  }
}

/** A regular file redirected to stdin, read like a named file; fd 0 stays open (it is not ours). */
function redirectedStdinChunks(): AsyncGenerator<Buffer> {
  return readAhead(
    (buf) =>
      new Promise<number>((resolve, reject) =>
        read(0, buf, 0, CHUNK_BYTES, null, (err, bytesRead) => (err ? reject(InputError.fromFs('stdin', err)) : resolve(bytesRead))),
      ),
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
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
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

/**
 * Opens an events input for streaming: a file path or `-` for stdin; gzip (a `.gz` name
 * or the gzip magic bytes) is decompressed on the fly. Opening fails early, with the
 * file named, so the CLI can exit 2 before any output.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/input-error.ts';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const CHUNK_BYTES = 1024 * 1024;

export interface ByteInput {
  /** For messages: the path, or `stdin`. */
  readonly name: string;
  readonly chunks: AsyncIterable<Buffer>;
}

async function* gunzipIfNeeded(name: string, stream: Readable, forceGzip: boolean): AsyncGenerator<Buffer> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const gzip = forceGzip || (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1);
  if (!gzip) {
    yield head;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
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

export async function openByteInput(path: string): Promise<ByteInput> {
  if (path === '-') {
    return { name: 'stdin', chunks: gunzipIfNeeded('stdin', process.stdin, false) };
  }
  try {
    const handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) {
      await handle.close();
      throw new InputError(`${path}: is a directory, expected an events file`);
    }
    const stream = handle.createReadStream({ highWaterMark: CHUNK_BYTES, autoClose: true });
    return { name: path, chunks: gunzipIfNeeded(path, stream, path.endsWith('.gz')) };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw InputError.fromFs(path, err);
  }
}

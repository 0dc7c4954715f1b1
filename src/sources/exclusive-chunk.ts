/**
 * Chunks whose memory is the consumer's alone: a source marks a buffer it allocated for
 * one chunk and never touches again, so the pipeline may move that memory to a decoding
 * thread instead of copying it (pipeline/decode-stage.ts). A chunk that is a view on a
 * buffer the source reuses (zlib's output, a socket's reads) is never marked.
 *
 * A source that reads a file lends its chunks from a ChunkPool: the consumer that is
 * done with one (it decoded the lines and copied what it keeps, and did not move the
 * memory to a thread) hands it back with releaseChunk, and the source reads into that
 * memory again. Why: a new 1 MB buffer per read is external memory, which V8 counts
 * towards its next collection ("external memory pressure"; the buffers in flight get
 * promoted and wait for a full collection), and each read faulted in fresh pages. A
 * 338 MB replay collected 16 times with lent buffers instead of 22 with new ones, and
 * peaked at ~133 MB of memory instead of ~153 MB (`node --trace-gc`, `/usr/bin/time -f %M`).
 */
const exclusive = new WeakSet<Buffer>();

export function markExclusive(chunk: Buffer): Buffer {
  exclusive.add(chunk);
  return chunk;
}

export function isExclusive(chunk: Buffer): boolean {
  return exclusive.has(chunk);
}

/** The pool a lent chunk goes back to. */
const lenders = new WeakMap<Buffer, ChunkPool>();

/** Read buffers of one size that a source lends out as exclusive chunks and gets back. */
export class ChunkPool {
  private readonly spare: ArrayBuffer[] = [];

  /** `maxSpare`: buffers kept for reuse at most (the source's reads under way and the chunks out with its consumer). */
  constructor(
    readonly chunkBytes: number,
    private readonly maxSpare: number,
  ) {}

  /** Buffers handed back and not read into again yet. */
  get spares(): number {
    return this.spare.length;
  }

  /** A buffer of chunkBytes to read into: one handed back, else a new one. */
  buffer(): Buffer {
    const spare = this.spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  /** The first `length` bytes of `buf` (from buffer()), as an exclusive chunk that releaseChunk returns here. */
  lend(buf: Buffer, length: number): Buffer {
    const chunk = markExclusive(length === buf.length ? buf : buf.subarray(0, length));
    lenders.set(chunk, this);
    return chunk;
  }

  /** Takes a buffer back, unless it moved to another thread (detached) or enough are kept. */
  take(memory: ArrayBufferLike): void {
    if (memory instanceof ArrayBuffer && memory.byteLength === this.chunkBytes && this.spare.length < this.maxSpare)
      this.spare.push(memory);
  }
}

/**
 * The consumer is done with `chunk` and holds no view on it: a lent chunk's memory goes
 * back to its pool (and the chunk is no longer exclusive); any other chunk is left alone.
 * `memory`: where the chunk's memory is now, when it moved to a thread and came back.
 */
export function releaseChunk(chunk: Buffer, memory: ArrayBufferLike = chunk.buffer): void {
  const pool = lenders.get(chunk);
  if (!pool) return;
  lenders.delete(chunk);
  exclusive.delete(chunk);
  pool.take(memory);
}

/**
 * Chunks whose memory is the consumer's alone: a source marks a buffer it allocated for
 * one chunk and never touches again, so the pipeline may move that memory to a decoding
 * thread instead of copying it (pipeline/decode-stage.ts). A chunk that is a view on a
 * buffer the source reuses (zlib's output, a socket's reads) is never marked.
 */
const exclusive = new WeakSet<Buffer>();

export function markExclusive(chunk: Buffer): Buffer {
  exclusive.add(chunk);
  return chunk;
}

export function isExclusive(chunk: Buffer): boolean {
  return exclusive.has(chunk);
}

/**
 * Lent chunks (src/sources/exclusive-chunk.ts): memory goes back to its pool only when
 * the consumer releases the chunk, once, and never when it moved to another thread.
 */
import { describe, expect, it } from 'vitest';
import { ChunkPool, isExclusive, markExclusive, releaseChunk } from '../../src/sources/exclusive-chunk.ts';

describe('a chunk pool', () => {
  it('reads into a released chunk again, and only once it is released', () => {
    const pool = new ChunkPool(1024, 4);
    const buf = pool.buffer();
    const chunk = pool.lend(buf, 1000);
    expect(chunk.length).toBe(1000);
    expect(isExclusive(chunk)).toBe(true);
    expect(pool.buffer().buffer).not.toBe(buf.buffer);
    releaseChunk(chunk);
    expect(isExclusive(chunk)).toBe(false);
    expect(pool.spares).toBe(1);
    // A second release of the same chunk gives nothing back twice.
    releaseChunk(chunk);
    expect(pool.spares).toBe(1);
    const again = pool.buffer();
    expect(again.buffer).toBe(buf.buffer);
    expect(again.length).toBe(1024);
    expect(pool.spares).toBe(0);
  });

  it('leaves alone chunks it did not lend, memory that moved away, and more than it keeps', () => {
    const pool = new ChunkPool(1024, 1);
    const other = markExclusive(Buffer.alloc(1024));
    releaseChunk(other);
    expect(isExclusive(other)).toBe(true);
    expect(pool.spares).toBe(0);

    const moved = pool.lend(pool.buffer(), 1024);
    structuredClone(moved.buffer, { transfer: [moved.buffer as ArrayBuffer] });
    releaseChunk(moved);
    expect(pool.spares).toBe(0);

    const a = pool.lend(pool.buffer(), 1024);
    const b = pool.lend(pool.buffer(), 1024);
    releaseChunk(a);
    releaseChunk(b);
    expect(pool.spares).toBe(1);
  });

  it('takes memory back from another thread for a chunk that moved there', () => {
    const pool = new ChunkPool(1024, 2);
    const chunk = pool.lend(pool.buffer(), 512);
    const back = structuredClone(chunk.buffer, { transfer: [chunk.buffer as ArrayBuffer] });
    releaseChunk(chunk, back);
    expect(pool.spares).toBe(1);
    expect(pool.buffer().buffer).toBe(back);
  });
});

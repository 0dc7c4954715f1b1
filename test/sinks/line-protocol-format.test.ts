import { describe, expect, it } from 'vitest';
import { fieldsText, formatPoint } from '../../src/sinks/line-protocol.ts';

describe('line protocol fields and times', () => {
  it('writes integer fields (truncated, with i) before float fields, comma-separated', () => {
    const point = { measurement: 'm', tags: {}, ints: { a: 1.9, 'b c': -2 }, floats: { f: 0.5, g: 3 }, timeMs: 10 };
    expect(fieldsText(point)).toBe('a=1i,b\\ c=-2i,f=0.5,g=3');
    expect(formatPoint({ ...point, key: 'k' })).toBe('k a=1i,b\\ c=-2i,f=0.5,g=3 10000000');
  });

  it('keeps an empty field set empty', () => {
    expect(fieldsText({ ints: {} })).toBe('');
    expect(formatPoint({ measurement: 'm', tags: {}, ints: {}, timeMs: 0 })).toBe('m  0');
  });

  it('writes each point at its own time when consecutive points change window', () => {
    const at = (timeMs: number): string => formatPoint({ measurement: 'm', tags: {}, ints: { n: 1 }, timeMs, key: 'm' });
    expect([at(1), at(1), at(2), at(0), at(1)]).toEqual([
      'm n=1i 1000000',
      'm n=1i 1000000',
      'm n=1i 2000000',
      'm n=1i 0',
      'm n=1i 1000000',
    ]);
  });

  it('refuses a float that is not finite', () => {
    expect(() => formatPoint({ measurement: 'm', tags: {}, ints: {}, floats: { f: NaN }, timeMs: 0 })).toThrow(RangeError);
  });
});

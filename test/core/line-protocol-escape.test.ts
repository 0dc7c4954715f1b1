import { escape as clientEscape } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escape } from '../../src/core/line-protocol-escape.ts';

// Strings dense in the characters line protocol cares about (and their neighbours: the
// backslash, quotes), mixed with any UTF-16 code unit, lone surrogates included.
const special = fc.constantFrom(',', ' ', '=', '\n', '\r', '\t', '\\', '"', "'", '\0', 'a', 'é', '💡');
const text = fc.oneof(
  fc.string({ unit: special }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', maxLength: 1 })) }),
);

describe('line-protocol escaping, as the official client escapes', () => {
  it('escapes measurements byte for byte like escape.measurement', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(escape.measurement(s)).toBe(clientEscape.measurement(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('escapes tag keys, tag values and field keys byte for byte like escape.tag', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(escape.tag(s)).toBe(clientEscape.tag(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('escapes what needs escaping (the comparison above is not between two no-ops)', () => {
    expect(escape.measurement('a b,c=d\n\r\t')).toBe('a\\ b\\,c=d\\n\\r\\t');
    expect(escape.tag('a b,c=d\n\r\t')).toBe('a\\ b\\,c\\=d\\n\\r\\t');
    expect(escape.tag('plain')).toBe('plain');
  });
});

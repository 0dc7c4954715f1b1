/** Values InfluxDB cannot store are rejected by both decoders, identically. */
import { describe, expect, it } from 'vitest';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { DecodeStatus, KernelEvent, type LineDecoder } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

const POD = { namespace: 'shop', name: 'cart-1' };

function decodeWith(decoder: LineDecoder, line: string): { status: DecodeStatus; ev: KernelEvent } {
  const ev = new KernelEvent();
  const buf = Buffer.from(line);
  return { status: decoder.decode(buf, 0, buf.length, ev), ev };
}

const decoders: Array<[string, () => LineDecoder]> = [
  ['fast', () => new FastDecoder()],
  ['reference', () => new ReferenceDecoder()],
];

describe.each(decoders)('%s decoder: event times InfluxDB can store', (_name, make) => {
  const write = (time: string): string => kprobeLine({ fn: '__x64_sys_write', time, pod: POD, size: '10' });

  it.each([
    '0001-01-01T00:00:00Z',
    '1677-09-21T00:12:43.145Z',
    '1677-09-22T23:59:59.999Z',
    '2262-04-11T23:47:16.855Z',
    '2262-04-12T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '9999-12-31T23:59:59+01:00',
  ])('rejects %s as invalid_time', (time) => {
    const { status, ev } = decodeWith(make(), write(time));
    expect(status).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe('invalid_time');
  });

  it.each([
    ['1677-09-23T00:00:00Z', Date.UTC(1677, 8, 23)],
    ['2262-04-11T23:47:16.854Z', 9_223_372_036_854],
    ['2100-01-01T00:00:00Z', Date.UTC(2100, 0, 1)],
  ])('accepts %s', (time, ms) => {
    const { status, ev } = decodeWith(make(), write(time));
    expect(status).toBe(DecodeStatus.Used);
    expect(ev.timeMs).toBe(ms);
  });

  it('rejects the last storable second once its milliseconds pass the limit, after a cached prefix', () => {
    const d = make();
    expect(decodeWith(d, write('2262-04-11T23:47:16.100Z')).status).toBe(DecodeStatus.Used);
    const { status, ev } = decodeWith(d, write('2262-04-11T23:47:16.999Z'));
    expect(status).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe('invalid_time');
  });
});

describe.each(decoders)('%s decoder: byte counts a kernel call can move', (_name, make) => {
  it.each([
    ['size_arg string', { size: '9007199254740991' }],
    ['size_arg string just over 2^32', { size: String(2 ** 32 + 1) }],
    ['size_arg number', { size: 2 ** 40 }],
    ['return value', { size: '10', ret: 2 ** 32 + 1 }],
    ['return value string', { size: '10', ret: '9007199254740991' }],
  ])('rejects %s over 2^32 as invalid_size', (_what, spec) => {
    const { status, ev } = decodeWith(make(), kprobeLine({ fn: '__x64_sys_write', time: '2024-05-01T12:00:00Z', pod: POD, ...spec }));
    expect(status).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe('invalid_size');
  });

  it.each([
    ['size_arg 2^32', { size: String(2 ** 32) }, 2 ** 32],
    ['return value 2^31-1', { size: '10', ret: 2 ** 31 - 1 }, 2 ** 31 - 1],
  ])('accepts %s', (_what, spec, bytes) => {
    const { status, ev } = decodeWith(make(), kprobeLine({ fn: '__x64_sys_write', time: '2024-05-01T12:00:00Z', pod: POD, ...spec }));
    expect(status).toBe(DecodeStatus.Used);
    expect(ev.bytes).toBe(bytes);
  });
});

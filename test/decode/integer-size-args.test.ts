/**
 * Sizes exported as integer types, as Tetragon's own example policies do (tcp_sendmsg's
 * `size` as `int`, examples/tracingpolicy/tcp-connect.yaml), with no return value: the
 * byte count is the first integer-typed argument after args[0]. Both decoders agree.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FastDecoder } from '../../src/decode/fast-decoder.ts';
import { DecodeStatus, KernelEvent } from '../../src/decode/kernel-event.ts';
import { ReferenceDecoder } from '../../src/decode/reference-decoder.ts';
import { kernelEventFacts } from '../support/kernel-event-facts.ts';

const SOCK = {
  sock_arg: {
    family: 'AF_INET',
    type: 'SOCK_STREAM',
    protocol: 'IPPROTO_TCP',
    saddr: '10.0.0.1',
    daddr: '10.0.0.2',
    sport: 40000,
    dport: 443,
  },
};

function line(fn: string, args: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    process_kprobe: { process: { pid: 1, binary: '/bin/x' }, function_name: fn, args, ...extra },
    node_name: 'n1',
    time: '2026-05-01T12:00:00.000000000Z',
  });
}

function decodeBoth(text: string): { status: number; bytes: number; field: string } {
  const buf = Buffer.from(text);
  const a = new KernelEvent();
  const b = new KernelEvent();
  const ref = new ReferenceDecoder().decode(buf, 0, buf.length, a);
  const fast = new FastDecoder();
  const got = fast.decode(buf, 0, buf.length, b);
  expect({ status: got, facts: kernelEventFacts(b) }, text).toEqual({ status: ref, facts: kernelEventFacts(a) });
  expect(fast.fallbacks, text).toBe(0);
  return { status: ref, bytes: a.bytes, field: a.rejectField };
}

describe('sizes as integer-typed arguments', () => {
  it("reads Tetragon's example tcp_sendmsg policy (sock, int) and other integer types", () => {
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { int_arg: 1448 }]))).toMatchObject({ status: DecodeStatus.Used, bytes: 1448 });
    expect(decodeBoth(line('tcp_recvmsg', [SOCK, { uint_arg: 10 }]))).toMatchObject({ status: DecodeStatus.Used, bytes: 10 });
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { long_arg: '70000' }]))).toMatchObject({ status: DecodeStatus.Used, bytes: 70000 });
    // read(fd, buf, count) with the fd and count as int: the fd (args[0]) is not the size.
    expect(decodeBoth(line('__x64_sys_read', [{ int_arg: 3 }, { bytes_arg: 'aGk=' }, { int_arg: 512 }]))).toMatchObject({
      status: DecodeStatus.Used,
      bytes: 512,
    });
  });

  it('keeps size_arg and the return value first', () => {
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { int_arg: 5 }, { size_arg: '7' }]))).toMatchObject({ bytes: 7 });
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { int_arg: 5 }], { return: { int_arg: 3 } }))).toMatchObject({ bytes: 3 });
  });

  it('rejects a negative or malformed integer size, naming it, and a lone fd', () => {
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { int_arg: -1 }]))).toMatchObject({
      status: DecodeStatus.Rejected,
      field: 'process_kprobe.args[1].int_arg',
    });
    expect(decodeBoth(line('tcp_sendmsg', [SOCK, { long_arg: 'x' }]))).toMatchObject({
      status: DecodeStatus.Rejected,
      field: 'process_kprobe.args[1].long_arg',
    });
    expect(decodeBoth(line('__x64_sys_write', [{ int_arg: 3 }]))).toMatchObject({
      status: DecodeStatus.Rejected,
      field: 'process_kprobe.args[].size_arg',
    });
  });

  it('both decoders agree on any mix of integer arguments', () => {
    const value = fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constantFrom('12', '-3', 'x', '99999999999999999'), fc.constant(null));
    const element = fc.oneof(
      fc.record({ int_arg: value }),
      fc.record({ uint_arg: value }),
      fc.record({ long_arg: value }),
      fc.record({ long_arg: value, int_arg: value }),
      fc.record({ file_arg: fc.constant({ path: '/x' }) }),
      fc.record({ size_arg: value }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('tcp_sendmsg', '__x64_sys_write'),
        fc.array(element, { maxLength: 4 }),
        fc.boolean(),
        (fn, rest, spaced) => {
          const text = line(fn, fn === 'tcp_sendmsg' ? [SOCK, ...rest] : rest);
          decodeBoth(spaced ? text.replaceAll(',', ', ') : text);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

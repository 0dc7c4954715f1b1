/** The receiving side of Frame Streams, as golang-framestream's bidirectional writer drives it. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControl,
  encodeData,
  FrameStreamDecoder,
  FrameStreamError,
  FrameStreamReceiver,
  MAX_DATA_LENGTH,
} from '../../../src/sources/dnstap/frame-stream.ts';

/** What CoreDNS writes: READY (content type), START (content type), data frames, STOP. */
function senderBytes(payloads: Buffer[]): { handshake: Buffer; rest: Buffer } {
  return {
    handshake: encodeControl(ControlType.READY, [DNSTAP_CONTENT_TYPE]),
    rest: Buffer.concat([
      encodeControl(ControlType.START, [DNSTAP_CONTENT_TYPE]),
      ...payloads.map(encodeData),
      encodeControl(ControlType.STOP),
    ]),
  };
}

describe('FrameStreamReceiver', () => {
  it('answers READY with ACCEPT of the dnstap content type, takes data after START and answers STOP with FINISH', () => {
    const r = new FrameStreamReceiver();
    const { handshake, rest } = senderBytes([Buffer.from('one'), Buffer.from('two')]);
    const first = r.receive(handshake);
    // Byte for byte what golang-framestream's ControlFrame.Encode writes for ACCEPT.
    const ct = Buffer.from(DNSTAP_CONTENT_TYPE);
    const accept = Buffer.alloc(20 + ct.length);
    accept.writeUInt32BE(0, 0);
    accept.writeUInt32BE(12 + ct.length, 4);
    accept.writeUInt32BE(1, 8);
    accept.writeUInt32BE(1, 12);
    accept.writeUInt32BE(ct.length, 16);
    ct.copy(accept, 20);
    expect(first.replies).toEqual([accept]);
    expect(first.payloads).toEqual([]);
    const second = r.receive(rest);
    expect(second.payloads.map(String)).toEqual(['one', 'two']);
    expect(second.replies).toEqual([encodeControl(ControlType.FINISH)]);
    expect(second.finished).toBe(true);
  });

  it('takes a unidirectional sender (START first) and a START without content type', () => {
    const r = new FrameStreamReceiver();
    const out = r.receive(Buffer.concat([encodeControl(ControlType.START), encodeData(Buffer.from('x'))]));
    expect(out.replies).toEqual([]);
    expect(out.payloads.map(String)).toEqual(['x']);
  });

  it('gives the same frames however the stream is cut into chunks', () => {
    const payloads = [Buffer.from('a'), Buffer.alloc(300, 7), Buffer.from('last')];
    const { handshake, rest } = senderBytes(payloads);
    const all = Buffer.concat([handshake, rest]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const r = new FrameStreamReceiver();
        const got: Buffer[] = [];
        let finished = false;
        let start = 0;
        for (const end of [...points, all.length]) {
          const out = r.receive(all.subarray(start, end));
          got.push(...out.payloads);
          finished ||= out.finished;
          start = end;
        }
        expect(got).toEqual(payloads);
        expect(finished).toBe(true);
        expect(r.buffered).toBe(0);
      }),
    );
  });

  it('refuses data before START, another content type, an unknown control type and frames after STOP', () => {
    expect(() => new FrameStreamReceiver().receive(encodeData(Buffer.from('x')))).toThrow(/data frame before START/);
    expect(() => new FrameStreamReceiver().receive(encodeControl(ControlType.READY, ['protobuf:other']))).toThrow(
      /not protobuf:dnstap.Dnstap/,
    );
    expect(() => new FrameStreamReceiver().receive(encodeControl(9))).toThrow(/unexpected control frame type 9/);
    const r = new FrameStreamReceiver();
    r.receive(Buffer.concat([encodeControl(ControlType.START), encodeControl(ControlType.STOP)]));
    expect(() => r.receive(encodeData(Buffer.from('late')))).toThrow(/after STOP/);
  });

  it('refuses oversized and malformed frames without buffering them', () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_DATA_LENGTH + 1);
    expect(() => new FrameStreamDecoder().push(huge)).toThrow(FrameStreamError);
    const bigControl = Buffer.alloc(8);
    bigControl.writeUInt32BE(0, 0);
    bigControl.writeUInt32BE(4096, 4);
    expect(() => new FrameStreamDecoder().push(bigControl)).toThrow(/control frame length 4096/);
    // A content type field longer than its frame.
    const bad = encodeControl(ControlType.READY, ['abc']);
    bad.writeUInt32BE(99, 16);
    expect(() => new FrameStreamDecoder().push(bad)).toThrow(/longer \(99\) than the frame/);
  });

  it('never throws anything but FrameStreamError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          new FrameStreamReceiver().receive(Buffer.from(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(FrameStreamError);
        }
      }),
    );
  });
});

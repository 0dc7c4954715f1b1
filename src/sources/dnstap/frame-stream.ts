/**
 * The receiving side of Frame Streams (the framing dnstap uses), bidirectional as
 * CoreDNS's dnstap plugin speaks it through golang-framestream: the sender writes READY
 * with its content types, the receiver answers ACCEPT with the one it takes, the sender
 * writes START, then data frames, then STOP, which the receiver answers with FINISH.
 * A unidirectional sender starts with START.
 *
 * Hand-written: npm has no maintained Frame Streams package (the few there are are
 * unmaintained or sender-only), and the protocol is a 4-byte length prefix and five
 * control frame types.
 *
 * Wire form: a data frame is a big-endian u32 length (> 0) and that many bytes; a
 * control frame is a u32 zero (the escape), a u32 length, a u32 type and fields, each a
 * u32 field type (1: content type), a u32 length and the bytes.
 */

export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

export const ControlType = { ACCEPT: 1, START: 2, STOP: 3, READY: 4, FINISH: 5 } as const;
export type ControlTypeName = keyof typeof ControlType;

const FIELD_CONTENT_TYPE = 1;
/** golang-framestream refuses longer control frames; so do we. */
const MAX_CONTROL_LENGTH = 512;
/** golang-framestream's default data frame bound; a dnstap frame is two DNS messages at most. */
export const MAX_DATA_LENGTH = 1 << 20;

export class FrameStreamError extends Error {
  override readonly name = 'FrameStreamError';
}

export interface ControlFrame {
  kind: 'control';
  type: number;
  contentTypes: string[];
}

export interface DataFrame {
  kind: 'data';
  payload: Buffer;
}

export type Frame = ControlFrame | DataFrame;

export function encodeControl(type: number, contentTypes: readonly string[] = []): Buffer {
  const fields = contentTypes.map((t) => Buffer.from(t, 'utf8'));
  const length = 4 + fields.reduce((n, f) => n + 8 + f.length, 0);
  const out = Buffer.alloc(8 + length);
  out.writeUInt32BE(0, 0);
  out.writeUInt32BE(length, 4);
  out.writeUInt32BE(type, 8);
  let at = 12;
  for (const f of fields) {
    out.writeUInt32BE(FIELD_CONTENT_TYPE, at);
    out.writeUInt32BE(f.length, at + 4);
    f.copy(out, at + 8);
    at += 8 + f.length;
  }
  return out;
}

export function encodeData(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

function decodeControlBody(body: Buffer): ControlFrame {
  const type = body.readUInt32BE(0);
  const contentTypes: string[] = [];
  let at = 4;
  while (at < body.length) {
    if (body.length - at < 8) throw new FrameStreamError(`control frame field truncated (${body.length - at} bytes left)`);
    const fieldType = body.readUInt32BE(at);
    const length = body.readUInt32BE(at + 4);
    if (fieldType !== FIELD_CONTENT_TYPE) throw new FrameStreamError(`control frame field of unknown type ${fieldType}`);
    if (length > body.length - at - 8) throw new FrameStreamError(`control frame field longer (${length}) than the frame`);
    contentTypes.push(body.toString('utf8', at + 8, at + 8 + length));
    at += 8 + length;
  }
  return { kind: 'control', type, contentTypes };
}

/** Cuts a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Bytes of a frame not yet complete (a connection closing with some is truncated). */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): Frame[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    for (;;) {
      if (buf.length - at < 4) break;
      const length = buf.readUInt32BE(at);
      if (length > 0) {
        if (length > MAX_DATA_LENGTH) throw new FrameStreamError(`data frame of ${length} bytes, more than ${MAX_DATA_LENGTH}`);
        if (buf.length - at - 4 < length) break;
        // A copy: the payload outlives the chunk buffers it came in.
        frames.push({ kind: 'data', payload: Buffer.from(buf.subarray(at + 4, at + 4 + length)) });
        at += 4 + length;
        continue;
      }
      if (buf.length - at < 8) break;
      const controlLength = buf.readUInt32BE(at + 4);
      if (controlLength < 4 || controlLength > MAX_CONTROL_LENGTH) {
        throw new FrameStreamError(`control frame length ${controlLength} outside 4..${MAX_CONTROL_LENGTH}`);
      }
      if (buf.length - at - 8 < controlLength) break;
      frames.push(decodeControlBody(buf.subarray(at + 8, at + 8 + controlLength)));
      at += 8 + controlLength;
    }
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    return frames;
  }
}

export interface ReceiveResult {
  /** Control frames to write back to the sender, in order. */
  replies: Buffer[];
  /** Data frame payloads received after START. */
  payloads: Buffer[];
  /** STOP was received (and FINISH is among the replies): close the connection. */
  finished: boolean;
}

type State = 'await-ready-or-start' | 'await-start' | 'data' | 'finished';

/**
 * One connection's protocol state. Anything out of order (data before START, a second
 * READY, a content type other than `contentType`) is a FrameStreamError: the caller
 * closes the connection, and the sender (CoreDNS) reconnects.
 */
export class FrameStreamReceiver {
  private readonly decoder = new FrameStreamDecoder();
  private state: State = 'await-ready-or-start';

  constructor(readonly contentType: string = DNSTAP_CONTENT_TYPE) {}

  get buffered(): number {
    return this.decoder.buffered;
  }

  get started(): boolean {
    return this.state === 'data';
  }

  receive(chunk: Buffer): ReceiveResult {
    const out: ReceiveResult = { replies: [], payloads: [], finished: false };
    for (const frame of this.decoder.push(chunk)) {
      if (this.state === 'finished') throw new FrameStreamError('frame after STOP');
      if (frame.kind === 'data') {
        if (this.state !== 'data') throw new FrameStreamError('data frame before START');
        out.payloads.push(frame.payload);
        continue;
      }
      this.control(frame, out);
    }
    return out;
  }

  private control(frame: ControlFrame, out: ReceiveResult): void {
    const offersOurs = frame.contentTypes.length === 0 || frame.contentTypes.includes(this.contentType);
    switch (frame.type) {
      case ControlType.READY:
        if (this.state !== 'await-ready-or-start') throw new FrameStreamError('READY after the handshake');
        if (!offersOurs) throw new FrameStreamError(`READY offers ${frame.contentTypes.join(', ')}, not ${this.contentType}`);
        out.replies.push(encodeControl(ControlType.ACCEPT, [this.contentType]));
        this.state = 'await-start';
        return;
      case ControlType.START:
        if (this.state === 'data') throw new FrameStreamError('a second START');
        if (!offersOurs) throw new FrameStreamError(`START of ${frame.contentTypes.join(', ')}, not ${this.contentType}`);
        this.state = 'data';
        return;
      case ControlType.STOP:
        if (this.state !== 'data') throw new FrameStreamError('STOP before START');
        // FINISH is only for bidirectional senders, but a unidirectional one has closed
        // its reading side and ignores it.
        out.replies.push(encodeControl(ControlType.FINISH));
        out.finished = true;
        this.state = 'finished';
        return;
      default:
        throw new FrameStreamError(`unexpected control frame type ${frame.type}`);
    }
  }
}

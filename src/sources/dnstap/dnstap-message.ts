/**
 * dnstap's protobuf messages, the part kovenant reads: the message type, when it was
 * answered and the wire-format response. Written from dnstap's public schema
 * (dnstap.proto, proto2); fields kovenant ignores are left out, which protobuf decoding
 * skips.
 */
import protobuf from 'protobufjs';

const SCHEMA = `
syntax = "proto2";
package dnstap;

message Dnstap {
  optional bytes identity = 1;
  optional bytes version = 2;
  optional bytes extra = 3;
  optional Message message = 14;
  enum Type { MESSAGE = 1; }
  required Type type = 15;
}

message Message {
  enum Type {
    AUTH_QUERY = 1; AUTH_RESPONSE = 2; RESOLVER_QUERY = 3; RESOLVER_RESPONSE = 4;
    CLIENT_QUERY = 5; CLIENT_RESPONSE = 6; FORWARDER_QUERY = 7; FORWARDER_RESPONSE = 8;
    STUB_QUERY = 9; STUB_RESPONSE = 10; TOOL_QUERY = 11; TOOL_RESPONSE = 12;
    UPDATE_QUERY = 13; UPDATE_RESPONSE = 14;
  }
  required Type type = 1;
  optional bytes query_address = 4;
  optional uint64 query_time_sec = 8;
  optional fixed32 query_time_nsec = 9;
  optional bytes query_message = 10;
  optional uint64 response_time_sec = 12;
  optional fixed32 response_time_nsec = 13;
  optional bytes response_message = 14;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
export const DnstapType = root.lookupType('dnstap.Dnstap');
export const MessageType = root.lookupType('dnstap.Message');

/** Response message types: every even `Message.Type`. */
const RESPONSES: ReadonlySet<number> = new Set([2, 4, 6, 8, 10, 12, 14]);

/** What a dnstap frame says of one DNS response. */
export interface DnstapResponse {
  /** `Message.Type` (6: CLIENT_RESPONSE, what CoreDNS's dnstap plugin sends). */
  type: number;
  /** When the response was sent (ms since the epoch); the query time if absent. */
  atMs: number;
  /** The wire-format DNS response (`full` in the Corefile). */
  message: Uint8Array;
}

export class DnstapDecodeError extends Error {
  override readonly name = 'DnstapDecodeError';
}

/** uint64 fields decode to a Long (protobufjs with `long` installed) or a number. */
type Uint64 = number | { toNumber(): number };

interface DecodedMessage {
  type: number;
  query_time_sec?: Uint64;
  query_time_nsec?: number;
  response_time_sec?: Uint64;
  response_time_nsec?: number;
  response_message?: Uint8Array;
}

interface DecodedDnstap {
  type: number;
  message?: DecodedMessage;
}

function toNumber(v: Uint64 | undefined): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : v.toNumber();
}

function timeMs(sec: Uint64 | undefined, nsec: number | undefined): number | undefined {
  const s = toNumber(sec);
  // protobufjs fills absent proto2 scalars with their default (0): 0 means absent.
  if (s === undefined || s === 0) return undefined;
  return s * 1000 + Math.floor((nsec ?? 0) / 1e6);
}

/**
 * Decodes one data frame. Undefined for frames that carry no DNS response with a
 * wire-format message (queries; `dnstap` without `full`); DnstapDecodeError for bytes
 * that are not a dnstap message.
 */
export function decodeDnstapResponse(frame: Uint8Array): DnstapResponse | undefined {
  let decoded: DecodedDnstap;
  try {
    decoded = DnstapType.decode(frame) as unknown as DecodedDnstap;
  } catch (err) {
    throw new DnstapDecodeError(`not a dnstap message: ${(err as Error).message}`);
  }
  const m = decoded.message;
  if (decoded.type !== 1 || !m || !RESPONSES.has(m.type)) return undefined;
  const message = m.response_message;
  if (!message || message.length === 0) return undefined;
  const atMs = timeMs(m.response_time_sec, m.response_time_nsec) ?? timeMs(m.query_time_sec, m.query_time_nsec);
  if (atMs === undefined) return undefined;
  return { type: m.type, atMs, message };
}

/** Encodes a response frame as CoreDNS would (tests, bench). */
export function encodeDnstapResponse(r: { type?: number; atMs: number; message: Uint8Array }): Uint8Array {
  const sec = Math.floor(r.atMs / 1000);
  const msg = MessageType.create({
    type: r.type ?? 6,
    response_time_sec: sec,
    response_time_nsec: (r.atMs - sec * 1000) * 1e6,
    response_message: r.message,
  });
  return DnstapType.encode(DnstapType.create({ type: 1, message: msg })).finish();
}

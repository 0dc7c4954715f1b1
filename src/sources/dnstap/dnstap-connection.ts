/**
 * One dnstap connection, accepted (--dnstap-listen) or dialled (--dnstap-connect): the
 * receiving side of Frame Streams on the socket, every DNS response's address records
 * into the DNS name cache. A connection that sends anything malformed (garbage, a
 * truncated frame, a frame that is not dnstap, a DNS message that does not decode) is
 * closed with a logged, counted error; the daemon goes on.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../telemetry/logger.ts';
import { addressAnswers, DnsMessageError, type AddressAnswer } from './dns-answers.ts';
import { decodeDnstapResponse, DnstapDecodeError } from './dnstap-message.ts';
import { FrameStreamError, FrameStreamReceiver } from './frame-stream.ts';

export interface DnstapStats {
  connections: number;
  /** Data frames received (every dnstap message, queries too). */
  frames: number;
  /** DNS responses whose address records were learned. */
  responses: number;
  /** Connections closed for malformed input. */
  parseErrors: number;
}

/** Where answers go (the DNS name cache, a layer up): what this source needs of it. */
export interface AnswerLearner {
  learn(answer: AddressAnswer, atMs: number): void;
}

export function serveDnstapConnection(socket: Socket, peer: string, cache: AnswerLearner, log: Logger, counts: DnstapStats): void {
  const receiver = new FrameStreamReceiver();
  log.info({ peer }, 'dnstap sender connected');
  let failed = false;
  const fail = (reason: string): void => {
    if (failed) return;
    failed = true;
    counts.parseErrors++;
    log.warn({ peer, err: reason }, 'dnstap: malformed input, closing the connection');
    socket.destroy();
  };
  const frame = (payload: Buffer): void => {
    counts.frames++;
    const response = decodeDnstapResponse(payload);
    if (!response) return;
    const answers = addressAnswers(response.message);
    counts.responses++;
    for (const answer of answers) cache.learn(answer, response.atMs);
  };
  socket.on('data', (chunk: Buffer) => {
    if (failed) return;
    try {
      const result = receiver.receive(chunk);
      for (const reply of result.replies) socket.write(reply);
      for (const payload of result.payloads) frame(payload);
      if (result.finished) socket.end();
    } catch (err) {
      // Anything else is a bug here, not bad input; it still costs only this connection.
      if (!(err instanceof FrameStreamError || err instanceof DnstapDecodeError || err instanceof DnsMessageError))
        log.error({ peer, err: (err as Error).stack }, 'dnstap: unexpected error');
      fail((err as Error).message);
    }
  });
  socket.on('end', () => {
    if (receiver.buffered > 0) fail(`connection closed inside a frame (${receiver.buffered} bytes of it received)`);
    else socket.end();
  });
  socket.on('error', (err) => {
    if (!failed) log.warn({ peer, err: err.message }, 'dnstap connection error');
  });
  socket.on('close', () => {
    if (!failed) log.info({ peer }, 'dnstap sender disconnected');
  });
}

/**
 * A decoding thread (decode-stage.ts): takes framed pieces of the stream, decodes their
 * lines and posts them back as one batch a piece (decode/decoded-batch.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter } from '../decode/decoded-batch.ts';
import { PieceDecoder, type DecodeWorkerData, type PieceMessage } from './decode-stage.ts';

const port = parentPort!;
const { maxLineBytes } = workerData as DecodeWorkerData;
const decoder = new PieceDecoder(undefined, maxLineBytes);
const writer = new BatchWriter();
const add = writer.add.bind(writer);
let fallbacksPosted = 0;

const asBuffer = (bytes: Uint8Array | undefined): Buffer | undefined =>
  bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

port.on('message', (message: PieceMessage) => {
  const oversized = decoder.decode(
    { head: asBuffer(message.head), body: asBuffer(message.body), bodyStart: message.bodyStart, bodyEnd: message.bodyEnd },
    add,
  );
  const fallbacks = decoder.decoder.fallbacks;
  const batch = writer.take(message.seq, oversized, fallbacks - fallbacksPosted);
  fallbacksPosted = fallbacks;
  port.postMessage(batch, [batch.ints.buffer, batch.nums.buffer]);
});

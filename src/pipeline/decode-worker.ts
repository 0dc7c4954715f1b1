/**
 * A decoding thread (decode-stage.ts): takes framed pieces of the stream, decodes their
 * lines and posts them back as one batch a piece (decode/decoded-batch.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter } from '../decode/decoded-batch.ts';
import { PieceDecoder, type BatchMessage, type DecodeWorkerData, type PieceMessage } from './decode-stage.ts';
import { mapStackTraces } from '../telemetry/stack-traces.ts';

mapStackTraces();

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
  // The body's memory goes back with the batch: the main thread reads into it again
  // (rather than this thread's collector freeing a megabyte a piece when it gets round to it).
  const memory = message.body?.buffer as ArrayBuffer | undefined;
  const reply: BatchMessage = { batch, memory };
  port.postMessage(reply, memory ? [batch.ints.buffer, batch.nums.buffer, memory] : [batch.ints.buffer, batch.nums.buffer]);
});

/** The decoder the pipeline uses. */
import type { LineDecoder } from './kernel-event.ts';
import { ReferenceDecoder } from './reference-decoder.ts';

export interface CountingDecoder extends LineDecoder {
  /** Lines the fast path handed to the reference decoder (0 for the reference itself). */
  readonly fallbacks: number;
}

export function createDecoder(): CountingDecoder {
  const reference = new ReferenceDecoder();
  return { decode: reference.decode.bind(reference), fallbacks: 0 };
}

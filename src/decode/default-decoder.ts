/** The decoder the pipeline uses: the fast byte-level decoder, backed by the reference. */
import { FastDecoder } from './fast-decoder.ts';
import type { LineDecoder } from './kernel-event.ts';

export interface CountingDecoder extends LineDecoder {
  /** Lines the fast path handed to the reference decoder (0 for the reference itself). */
  readonly fallbacks: number;
}

export function createDecoder(): CountingDecoder {
  return new FastDecoder();
}

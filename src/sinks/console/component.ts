/** `--output console`: a refreshing top-N view (plain tables when stdout is not a terminal). */
import * as z from 'zod';
import { positiveInt } from '../../core/config-values.ts';
import { ConsoleSink } from '../console-sink.ts';
import { refuseOutFile, textSink, type SinkFactory } from '../sink-component.ts';

const schema = z.object({
  out: refuseOutFile(),
  /** Rows per table. */
  top: positiveInt('--top').default(10),
});

export const consoleSink: SinkFactory<typeof schema> = {
  kind: 'sink',
  name: 'console',
  description: 'a live top-N view of the traffic in the terminal',
  schema,
  async create({ top }) {
    return textSink(new ConsoleSink({ topN: top }), 'console');
  },
};

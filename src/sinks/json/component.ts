/** `--output json`: one JSON object per point and line, to stdout or `--out FILE`. */
import { JsonLinesSink } from '../json-sink.ts';
import { outFile, textSink, type SinkFactory } from '../sink-component.ts';

export const jsonSink: SinkFactory<typeof outFile> = {
  kind: 'sink',
  name: 'json',
  description: 'one JSON object per point and line, to stdout or --out FILE',
  schema: outFile,
  async create({ out }) {
    return out !== undefined && out !== '-' ? textSink(await JsonLinesSink.toFile(out), out) : textSink(JsonLinesSink.toStdout(), 'stdout');
  },
};

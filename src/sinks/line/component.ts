/** `--output line`: InfluxDB line protocol to stdout or `--out FILE`. */
import { LineProtocolSink } from '../line-sink.ts';
import { outFile, textSink, type SinkFactory } from '../sink-component.ts';

export const lineSink: SinkFactory<typeof outFile> = {
  kind: 'sink',
  name: 'line',
  description: 'InfluxDB line protocol to stdout or --out FILE',
  schema: outFile,
  async create({ out }) {
    return out !== undefined && out !== '-'
      ? textSink(await LineProtocolSink.toFile(out), out)
      : textSink(LineProtocolSink.toStdout(), 'stdout');
  },
};

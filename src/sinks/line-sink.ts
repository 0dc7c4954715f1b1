/** `--output line`: InfluxDB line protocol to stdout or a file. */
import { formatPoint } from './line-protocol.ts';
import { TextStreamSink } from './text-stream-sink.ts';

export const LineProtocolSink = {
  toFile: (path: string): Promise<TextStreamSink> => TextStreamSink.toFile(path, formatPoint),
  toStdout: (): TextStreamSink => TextStreamSink.toStdout(formatPoint),
};

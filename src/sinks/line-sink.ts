/** `--output line`: InfluxDB line protocol to stdout or a file. */
import { LineEncoder } from './line-protocol-bytes.ts';
import { TextStreamSink, type BatchRender } from './text-stream-sink.ts';

/** A sink's own encoder: its scratch buffer is reused batch after batch. */
function lineProtocol(): BatchRender {
  const encoder = new LineEncoder();
  return (points) => encoder.encode(points);
}

export const LineProtocolSink = {
  toFile: (path: string): Promise<TextStreamSink> => TextStreamSink.toFile(path, lineProtocol()),
  toStdout: (): TextStreamSink => TextStreamSink.toStdout(lineProtocol()),
};

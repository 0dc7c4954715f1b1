/** `--output line`: InfluxDB line protocol to stdout or a file. */
import { LineEncoder } from './line-protocol-bytes.ts';
import { TextStreamSink, type BatchRender } from './text-stream-sink.ts';

/** A sink's own encoder: its buffers are written as they are and reused once written. */
function lineProtocol(): BatchRender {
  const encoder = new LineEncoder();
  return { render: (points) => encoder.lend(points), written: (bytes) => encoder.giveBack(bytes) };
}

export const LineProtocolSink = {
  toFile: (path: string): Promise<TextStreamSink> => TextStreamSink.toFile(path, lineProtocol()),
  toStdout: (): TextStreamSink => TextStreamSink.toStdout(lineProtocol()),
};

/** `--output line`: InfluxDB line protocol to stdout or `--out FILE`. */
import { LineProtocolSink } from '../line-sink.ts';
import { textFileSink } from '../sink-component.ts';

export const lineSink = textFileSink('line', 'InfluxDB line protocol to stdout or --out FILE', LineProtocolSink);

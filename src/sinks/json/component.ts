/** `--output json`: one JSON object per point and line, to stdout or `--out FILE`. */
import { JsonLinesSink } from '../json-sink.ts';
import { textFileSink } from '../sink-component.ts';

export const jsonSink = textFileSink('json', 'one JSON object per point and line, to stdout or --out FILE', JsonLinesSink);

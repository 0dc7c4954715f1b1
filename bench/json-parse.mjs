// The baseline arm as a whole process: read the file in 1 MB chunks, split lines and
// JSON.parse each (the usual ceiling for a JSON-lines consumer). Plain JavaScript, run
// by node directly, so its start-up is node's own.
//   node bench/json-parse.mjs <events>
import { createReadStream } from 'node:fs';

const file = process.argv[2];
let carry; // the unfinished last line of the previous chunk, as bytes (no split characters)
let lines = 0;
let kprobes = 0;
const onLine = (line) => {
  if (!line) return;
  const obj = JSON.parse(line);
  lines++;
  if (obj.process_kprobe) kprobes++;
};
for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
  let s = 0;
  for (let e = chunk.indexOf(10); e >= 0; s = e + 1, e = chunk.indexOf(10, s)) {
    if (carry) {
      onLine(Buffer.concat([carry, chunk.subarray(0, e)]).toString('utf8'));
      carry = undefined;
    } else onLine(chunk.toString('utf8', s, e));
  }
  if (s < chunk.length) carry = carry ? Buffer.concat([carry, chunk.subarray(s)]) : Buffer.from(chunk.subarray(s));
}
if (carry) onLine(carry.toString('utf8'));
if (kprobes === 0) throw new Error('no kprobe events in the input');
process.stdout.write(`${lines}\n`);

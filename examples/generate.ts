/**
 * Regenerates the bundled example: `npm run examples`.
 * Writes examples/events.jsonl.gz (a Tetragon export of a small cluster over two
 * minutes) and examples/snapshot.json (the matching kubectl get ... -o json List).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { clusterSnapshot, exampleLines } from './synthetic-cluster.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const lines = [...exampleLines(4000, 120_000)];
// mtime 0 in the gzip header keeps the file byte-identical across regenerations.
writeFileSync(`${here}events.jsonl.gz`, gzipSync(lines.join('\n') + '\n', { level: 9 }));
writeFileSync(`${here}snapshot.json`, JSON.stringify(clusterSnapshot(), null, 2) + '\n');
process.stdout.write(`wrote ${lines.length} events to examples/events.jsonl.gz and the snapshot to examples/snapshot.json\n`);

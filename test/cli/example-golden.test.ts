/**
 * The bundled example end to end: totals checked against a naive oracle that reads the
 * events with JSON.parse and sums by operation (independent of the pipeline), and the
 * whole output against a committed golden file, so any change in attribution shows up
 * as a reviewable diff (regenerate with KOVENANT_UPDATE_GOLDEN=1 after checking it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.ts';

const GOLDEN = `${REPO}test/golden/example.lp.gz`;

interface Oracle {
  bytes_sent: number;
  bytes_received: number;
  sends: number;
  receives: number;
  connects: number;
  closes: number;
  bytes_read: number;
  bytes_written: number;
  reads: number;
  writes: number;
}

function oracle(): Oracle {
  const o: Oracle = { bytes_sent: 0, bytes_received: 0, sends: 0, receives: 0, connects: 0, closes: 0, bytes_read: 0, bytes_written: 0, reads: 0, writes: 0 };
  const text = gunzipSync(readFileSync(`${REPO}examples/events.jsonl.gz`)).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line) as { process_kprobe?: { function_name: string; args: Array<{ size_arg?: string }>; return?: { int_arg: number } } };
    const k = ev.process_kprobe;
    if (!k) continue;
    const size = k.args.find((a) => a.size_arg !== undefined)?.size_arg;
    const bytes = k.return ? Math.max(0, k.return.int_arg) : Number(size);
    const fn = k.function_name;
    if (fn === 'tcp_sendmsg') { o.bytes_sent += bytes; o.sends++; }
    else if (fn === 'tcp_recvmsg') { o.bytes_received += bytes; o.receives++; }
    else if (fn === 'tcp_connect') o.connects++;
    else if (fn === 'tcp_close') o.closes++;
    else if (fn.endsWith('_sys_read')) { o.bytes_read += bytes; o.reads++; }
    else if (fn.endsWith('_sys_write')) { o.bytes_written += bytes; o.writes++; }
  }
  return o;
}

describe('the bundled example', () => {
  it('adds up to what a naive reading of the events adds up to, and matches the golden output', async () => {
    const r = await runCli(['replay', 'examples/events.jsonl.gz', '--kube', 'examples/snapshot.json', '--window', '10s']);
    expect(r.code, r.stderr).toBe(0);
    const sums: Record<string, number> = {};
    for (const line of r.stdout.trimEnd().split('\n')) {
      const fields = line.split(' ')[1] ?? '';
      for (const kv of fields.split(',')) {
        const [k, v] = kv.split('=');
        sums[k!] = (sums[k!] ?? 0) + Number(v!.slice(0, -1));
      }
    }
    expect(sums).toEqual(oracle());
    if (process.env.KOVENANT_UPDATE_GOLDEN) writeFileSync(GOLDEN, gzipSync(r.stdout, { level: 9 }));
    expect(r.stdout).toBe(gunzipSync(readFileSync(GOLDEN)).toString('utf8'));
  });
});

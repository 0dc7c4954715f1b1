/** Builders of Tetragon export lines for tests, in the exact shape Tetragon prints. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { REFERENCE, haveReference } from '../deployment/support/paths.ts';

export interface KprobeSpec {
  fn: string;
  node?: string;
  time?: string;
  pod?: { namespace: string; name: string; workload?: string; workload_kind?: string; pod_labels?: Record<string, string> };
  parentPod?: { namespace: string; name: string };
  sock?: { saddr?: string; daddr?: string; sport?: number; dport?: number; family?: string; cookie?: string };
  size?: string | number;
  /** Index at which the size_arg goes (default: after the sock arg, or 0). */
  sizeIndex?: number;
  ret?: number | string;
}

export function kprobeLine(spec: KprobeSpec): string {
  const args: Array<Record<string, unknown>> = [];
  if (spec.sock)
    args.push({ sock_arg: { family: spec.sock.family ?? 'AF_INET', type: 'SOCK_STREAM', protocol: 'IPPROTO_TCP', ...spec.sock } });
  if (spec.size !== undefined) {
    const at = spec.sizeIndex ?? args.length;
    while (args.length < at) args.push({ file_arg: { path: 'var/log/x' } });
    args.splice(at, 0, { size_arg: spec.size });
  }
  const process: Record<string, unknown> = { exec_id: 'ZXhlYw==', pid: 42, uid: 0, binary: '/bin/app', flags: 'execve' };
  if (spec.pod) process.pod = { container: { id: 'containerd://abc', name: 'app' }, ...spec.pod };
  const parent: Record<string, unknown> = { exec_id: 'cGFyZW50', pid: 41, binary: '/bin/sh' };
  if (spec.parentPod) parent.pod = spec.parentPod;
  const kprobe: Record<string, unknown> = { process, parent, function_name: spec.fn, args, action: 'KPROBE_ACTION_POST' };
  if (spec.ret !== undefined) kprobe.return = { int_arg: spec.ret };
  const line: Record<string, unknown> = { process_kprobe: kprobe };
  if (spec.node !== undefined) line.node_name = spec.node;
  if (spec.time !== undefined) line.time = spec.time;
  return JSON.stringify(line);
}

export const SAMPLES_DIR = pathToFileURL(join(REFERENCE, 'tetragon/samples/'));

/** The real samples of ../shared/reference: a skip naming them locally when absent, a failure in CI. */
export const HAVE_SAMPLES = haveReference('tetragon/samples/tetragon-docs-events.jsonl', 'tetragon/samples/tcp-recvmsg-real-cluster.jsonl');

/** Every non-empty line of the real samples ([] when they are absent; see HAVE_SAMPLES). */
export function sampleLines(): string[] {
  if (!HAVE_SAMPLES) return [];
  return ['tetragon-docs-events.jsonl', 'tcp-recvmsg-real-cluster.jsonl'].flatMap((f) =>
    readFileSync(new URL(f, SAMPLES_DIR), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
}

/** The first `count` non-empty lines of the repository's examples/events.jsonl.gz (a real capture). */
export function exampleLines(count = Infinity): string[] {
  return gunzipSync(readFileSync(new URL('../../examples/events.jsonl.gz', import.meta.url)))
    .toString()
    .split('\n')
    .filter(Boolean)
    .slice(0, count);
}

/**
 * One pod's two sends in one window: `1234` bytes to a pod on 5432 (from port 40000) and
 * `10` to a Service IP on 80 (from 40001), the pair the live-metadata tests attribute.
 */
export function podAndServiceSends(
  time: string,
  pod: { namespace: string; name: string },
  ips: { pod: string; peer: string; service: string },
): string {
  const send = (sport: number, daddr: string, dport: number, size: string): string =>
    kprobeLine({ fn: 'tcp_sendmsg', node: 'node-a', time, pod, sock: { saddr: ips.pod, sport, daddr, dport }, size });
  return [send(40000, ips.peer, 5432, '1234'), send(40001, ips.service, 80, '10')].join('\n') + '\n';
}

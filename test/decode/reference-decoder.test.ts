import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeStatus, KernelEvent } from '../../src/decode/kernel-event.ts';
import { decodeText } from '../../src/decode/reference-decoder.ts';
import { HAVE_SAMPLES, SAMPLES_DIR, kprobeLine } from '../support/tetragon-lines.ts';

function decode(text: string): { status: DecodeStatus; ev: KernelEvent } {
  const ev = new KernelEvent();
  return { status: decodeText(text, ev), ev };
}

const T = '2024-05-01T12:00:03.123456789Z';
const T_MS = Date.UTC(2024, 4, 1, 12, 0, 3, 123);
const POD = { namespace: 'shop', name: 'cart-1' };
const SOCK = { saddr: '10.0.0.5', daddr: '10.0.0.9', sport: 40000, dport: 80 };

describe.skipIf(!HAVE_SAMPLES)('reference decoder: the real samples', () => {
  it('decodes the tcp_recvmsg captured on a real cluster', () => {
    const line = readFileSync(new URL('tcp-recvmsg-real-cluster.jsonl', SAMPLES_DIR), 'utf8').trim();
    const { status, ev } = decode(line);
    expect(status).toBe(DecodeStatus.Used);
    expect(ev).toMatchObject({
      op: 'recv',
      node: 'mgmt',
      podNamespace: 'kcos-sso',
      podName: 'keycloak-operator-5bc7649f79-nnpjh',
      localAddress: '192.168.252.21',
      localPort: 11929,
      remoteAddress: '192.168.248.1',
      remotePort: 443,
      bytes: 43976,
      timeMs: Date.UTC(2022, 7, 16, 16, 37, 56, 890),
    });
  });

  it('decodes the documentation samples: write, read, and skips exec/exit', () => {
    const lines = readFileSync(new URL('tetragon-docs-events.jsonl', SAMPLES_DIR), 'utf8').trim().split('\n');
    const results = lines.map((l) => decode(l));
    expect(results.map((r) => r.status)).toEqual([DecodeStatus.Used, DecodeStatus.Used, DecodeStatus.Skipped, DecodeStatus.Skipped]);
    // __x64_sys_write with file_arg, bytes_arg and size_arg "627": the size is the third argument.
    expect(results[0]!.ev).toMatchObject({
      op: 'write',
      bytes: 627,
      podNamespace: 'tenant-jobs',
      podName: 'elasticsearch-56f8fc6988-sh8rm',
    });
    expect(results[1]!.ev).toMatchObject({ op: 'read', bytes: 65536, node: 'minikube' });
    expect(results[2]!.ev.skippedType).toBe('process_exec');
    expect(results[3]!.ev.skippedType).toBe('process_exit');
  });
});

describe('reference decoder: event shapes', () => {
  it.each([
    ['tcp_connect', 'connect', 0],
    ['tcp_close', 'close', 0],
  ] as const)('%s carries the socket and no bytes', (fn, op, bytes) => {
    const { status, ev } = decode(kprobeLine({ fn, node: 'n1', time: T, pod: POD, sock: SOCK }));
    expect(status).toBe(DecodeStatus.Used);
    expect(ev).toMatchObject({
      op,
      bytes,
      remoteAddress: '10.0.0.9',
      remotePort: 80,
      localAddress: '10.0.0.5',
      localPort: 40000,
      timeMs: T_MS,
    });
  });

  it('tcp_sendmsg uses args[1].size_arg without a return value', () => {
    expect(decode(kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: SOCK, size: '1500' })).ev.bytes).toBe(1500);
  });

  it('tcp_recvmsg uses the return value over the buffer size', () => {
    expect(decode(kprobeLine({ fn: 'tcp_recvmsg', time: T, sock: SOCK, size: '65536', ret: 312 })).ev.bytes).toBe(312);
  });

  it('a negative return value is an error: the call counts, with 0 bytes', () => {
    const { status, ev } = decode(kprobeLine({ fn: 'tcp_recvmsg', time: T, sock: SOCK, size: '65536', ret: -11 }));
    expect(status).toBe(DecodeStatus.Used);
    expect(ev.bytes).toBe(0);
  });

  it.each(['__x64_sys_read', '__x64_sys_write', '__arm64_sys_read', '__arm64_sys_write'])('%s uses args[0].size_arg', (fn) => {
    const { status, ev } = decode(kprobeLine({ fn, time: T, size: '4096', pod: POD }));
    expect(status).toBe(DecodeStatus.Used);
    expect(ev.op).toBe(fn.endsWith('read') ? 'read' : 'write');
    expect(ev.bytes).toBe(4096);
  });

  it('a size given as a JSON number is accepted too', () => {
    expect(decode(kprobeLine({ fn: '__x64_sys_read', time: T, size: 77 })).ev.bytes).toBe(77);
  });

  it('a process outside pods has no pod; the parent pod is never taken for it', () => {
    const { ev } = decode(kprobeLine({ fn: '__x64_sys_read', time: T, size: '1', parentPod: { namespace: 'x', name: 'y' } }));
    expect(ev.podName).toBeUndefined();
    expect(ev.podNamespace).toBeUndefined();
  });

  it('keeps what Tetragon says of the pod workload and labels', () => {
    const { ev } = decode(
      kprobeLine({
        fn: '__x64_sys_read',
        time: T,
        size: '1',
        pod: { ...POD, workload: 'cart', workload_kind: 'Deployment', pod_labels: { a: 'b' } },
      }),
    );
    expect(ev).toMatchObject({ podWorkload: 'cart', podWorkloadKind: 'Deployment', podLabels: { a: 'b' } });
  });

  it('accepts RFC 3339 offsets and fractions of any length', () => {
    expect(decode(kprobeLine({ fn: '__x64_sys_read', time: '2024-05-01T14:00:03+02:00', size: '1' })).ev.timeMs).toBe(
      Date.UTC(2024, 4, 1, 12, 0, 3),
    );
    expect(decode(kprobeLine({ fn: '__x64_sys_read', time: '2024-05-01T12:00:03.5Z', size: '1' })).ev.timeMs).toBe(
      Date.UTC(2024, 4, 1, 12, 0, 3, 500),
    );
  });
});

describe('reference decoder: skipped and rejected', () => {
  it.each([
    ['{"process_exec":{"process":{}},"node_name":"n","time":"2024-05-01T12:00:00Z"}', 'process_exec'],
    ['{"node_name":"n","process_exit":{},"time":"2024-05-01T12:00:00Z"}', 'process_exit'],
    ['{"process_connect":{},"time":"x"}', 'process_connect'],
    ['{"process_tracepoint":{"subsys":"raw_syscalls"}}', 'process_tracepoint'],
    [
      '{"process_kprobe":{"function_name":"security_file_open","args":[]},"time":"2024-05-01T12:00:00Z"}',
      'process_kprobe:security_file_open',
    ],
    ['{"process_kprobe":{"args":[]}}', 'process_kprobe'],
    ['{}', 'unknown'],
  ])('%s is skipped as %s', (line, type) => {
    const { status, ev } = decode(line);
    expect(status).toBe(DecodeStatus.Skipped);
    expect(ev.skippedType).toBe(type);
  });

  it.each([
    ['not json', 'invalid_json'],
    ['{"process_kprobe":', 'invalid_json'],
    ['[1,2]', 'invalid_json'],
    ['42', 'invalid_json'],
    ['"string"', 'invalid_json'],
    ['null', 'invalid_json'],
    ['{"process_kprobe":"x"}', 'invalid_json'],
    [kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: { saddr: '1.1.1.1', sport: 1, dport: 2 }, size: '1' }), 'missing_socket'],
    [kprobeLine({ fn: 'tcp_connect', time: T, sock: { saddr: '1.1.1.1', daddr: '2.2.2.2', sport: 1 } }), 'missing_socket'],
    [kprobeLine({ fn: 'tcp_connect', time: T }), 'missing_socket'],
    [kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: SOCK, size: 'lots' }), 'invalid_size'],
    [kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: SOCK, size: '-5' }), 'invalid_size'],
    [kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: SOCK, size: 1.5 }), 'invalid_size'],
    [kprobeLine({ fn: 'tcp_sendmsg', time: T, sock: SOCK }), 'invalid_size'],
    [kprobeLine({ fn: '__x64_sys_write', time: T, size: '1', ret: 'oops' }), 'invalid_size'],
    [kprobeLine({ fn: '__x64_sys_write', size: '1' }), 'invalid_time'],
    [kprobeLine({ fn: '__x64_sys_write', time: 'yesterday', size: '1' }), 'invalid_time'],
    [kprobeLine({ fn: '__x64_sys_write', time: '2024-02-30T00:00:00Z', size: '1' }), 'invalid_time'],
  ])('%s is rejected as %s', (line, reason) => {
    const { status, ev } = decode(line);
    expect(status).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe(reason);
  });
});

describe('reference decoder: sizes and return values together', () => {
  it('a malformed size rejects the line even when the return value is fine', () => {
    const { status, ev } = decode(kprobeLine({ fn: 'tcp_recvmsg', time: T, sock: SOCK, size: '12abc', ret: 10 }));
    expect(status).toBe(DecodeStatus.Rejected);
    expect(ev.rejectReason).toBe('invalid_size');
  });

  it('a return value without any size argument is enough', () => {
    expect(decode(kprobeLine({ fn: '__x64_sys_read', time: T, ret: 12 })).ev.bytes).toBe(12);
  });
});

describe('reference decoder: cluster_name and the socket cookie', () => {
  it('reads cluster_name from the envelope and the cookie of tcp sockets', () => {
    const line = JSON.parse(
      kprobeLine({ fn: 'tcp_sendmsg', node: 'n1', time: T, sock: { ...SOCK, cookie: '18446744073709551615' }, size: '10' }),
    ) as Record<string, unknown>;
    const { status, ev } = decode(
      JSON.stringify({ ...line, cluster_name: 'prod-eu', node_labels: { 'topology.kubernetes.io/zone': 'z1' } }),
    );
    expect(status).toBe(DecodeStatus.Used);
    expect(ev).toMatchObject({ cluster: 'prod-eu', cookie: '18446744073709551615', node: 'n1' });
  });

  it('leaves both undefined when absent or empty', () => {
    const { ev } = decode(kprobeLine({ fn: 'tcp_connect', time: T, sock: SOCK }));
    expect(ev.cluster).toBeUndefined();
    expect(ev.cookie).toBeUndefined();
    const line = JSON.parse(kprobeLine({ fn: 'tcp_close', time: T, sock: { ...SOCK, cookie: '' } })) as Record<string, unknown>;
    const empty = decode(JSON.stringify({ ...line, cluster_name: '' })).ev;
    expect(empty.cluster).toBeUndefined();
    expect(empty.cookie).toBeUndefined();
  });
});

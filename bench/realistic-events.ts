/**
 * Deterministic, realistic Tetragon export lines for benchmarks and tests: ~2 KB
 * `process_kprobe` events shaped like the real samples in
 * `../shared/reference/tetragon/samples/` (full `process` and `parent` objects, both with
 * pods, container images, capabilities), with a mix of tcp and syscall kprobes.
 *
 * Everything derives from the event index so that two runs (and two benchmark arms in the
 * same run) see byte-identical input without storing a file.
 */

/** A small integer hash (lowbias32) so that fields vary without a stateful RNG. */
function mix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const NAMESPACES = ['tenant-jobs', 'kube-system', 'payments', 'checkout', 'monitoring', 'ingress-nginx'];
const APPS = ['elasticsearch', 'coredns', 'api-gateway', 'ledger', 'prometheus', 'controller', 'redis', 'kafka'];
const NODES = ['gke-prod-default-pool-b5e9dab6-k0cj', 'gke-prod-default-pool-b5e9dab6-x7qp', 'ip-10-0-3-17.ec2.internal'];
const BINARIES = ['/usr/bin/curl', '/usr/share/elasticsearch/jdk/bin/java', '/coredns', '/usr/local/bin/envoy', '/bin/prometheus'];

/**
 * Function names with their weights: tcp send/recv and syscalls dominate a busy node, and
 * a few arm64 nodes share the export.
 */
const FUNCTIONS: readonly string[] = [
  'tcp_sendmsg',
  'tcp_sendmsg',
  'tcp_sendmsg',
  'tcp_recvmsg',
  'tcp_recvmsg',
  'tcp_recvmsg',
  '__x64_sys_read',
  '__x64_sys_read',
  '__x64_sys_write',
  '__x64_sys_write',
  'tcp_connect',
  'tcp_close',
  '__arm64_sys_read',
  '__arm64_sys_write',
];

function hex(seed: number, length: number): string {
  let s = '';
  let h = seed;
  while (s.length < length) {
    h = mix(h + 0x9e3779b9);
    s += h.toString(16).padStart(8, '0');
  }
  return s.slice(0, length);
}

function base64ish(seed: number, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  let h = seed;
  for (let i = 0; i < length; i++) {
    h = mix(h + i);
    s += alphabet[h & 63];
  }
  return `${s}==`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 2024-05-01T12:00:00Z plus `i` × 7.3 µs, printed with nanoseconds like Tetragon. */
function eventTime(i: number): string {
  const totalNs = i * 7300 + 123;
  const secs = Math.floor(totalNs / 1e9);
  const ns = totalNs - secs * 1e9;
  const h = 12 + Math.floor(secs / 3600);
  const m = Math.floor(secs / 60) % 60;
  const s = secs % 60;
  return `2024-05-01T${pad2(h % 24)}:${pad2(m)}:${pad2(s)}.${String(ns).padStart(9, '0')}Z`;
}

interface PodShape {
  namespace: string;
  name: string;
  app: string;
  seed: number;
}

function podJson(pod: PodShape, pid: number): string {
  const containerId = hex(pod.seed * 31 + 7, 64);
  const image = `registry.example.com/${pod.namespace}/${pod.app}`;
  return (
    `{"namespace":"${pod.namespace}","name":"${pod.name}",` +
    `"container":{"id":"containerd://${containerId}","name":"${pod.app}",` +
    `"image":{"id":"${image}@sha256:${hex(pod.seed * 17 + 3, 64)}","name":"${image}:1.${pod.seed % 9}.${pod.seed % 13}"},` +
    `"start_time":"2024-04-30T08:1${pod.seed % 10}:05Z","pid":${pid}},` +
    `"pod_labels":{"app":"${pod.app}","pod-template-hash":"${hex(pod.seed, 10)}","team":"${pod.namespace}-owners"},` +
    `"workload":"${pod.app}","workload_kind":"Deployment"}`
  );
}

function processJson(seed: number, pod: PodShape | undefined, parentExecId: string, execId: string): string {
  const pid = 1000 + (seed % 60000);
  const binary = BINARIES[seed % BINARIES.length] ?? '/bin/sh';
  return (
    `{"exec_id":"${execId}","pid":${pid},"uid":${seed % 3 === 0 ? 0 : 1000},` +
    `"cwd":"/usr/share/${pod?.app ?? 'host'}/","binary":"${binary}",` +
    `"arguments":"--config /etc/${pod?.app ?? 'host'}/config.yaml --log-level info",` +
    `"flags":"execve clone","start_time":"2024-04-30T08:1${seed % 10}:0${seed % 10}.${100 + (seed % 900)}Z","auid":4294967295,` +
    (pod ? `"pod":${podJson(pod, 1 + (seed % 200))},` : '') +
    `"docker":"${hex(seed * 13 + 1, 31)}","parent_exec_id":"${parentExecId}","refcnt":${1 + (seed % 5)},` +
    `"tid":${pid}}`
  );
}

function sockJson(seed: number): string {
  const v6 = seed % 7 === 0;
  const local = v6 ? `::ffff:10.0.${seed % 4}.${10 + (seed % 200)}` : `10.0.${seed % 4}.${10 + (seed % 200)}`;
  const remote = v6 ? `fd00::${(seed % 4000).toString(16)}` : `10.${96 + (seed % 4)}.${(seed >>> 3) % 250}.${(seed >>> 11) % 250}`;
  return (
    `{"family":"${v6 ? 'AF_INET6' : 'AF_INET'}","type":"SOCK_STREAM","protocol":"IPPROTO_TCP",` +
    `"saddr":"${local}","daddr":"${remote}","sport":${32768 + (seed % 28000)},"dport":${[443, 80, 5432, 6379, 9092][seed % 5]},` +
    `"cookie":"${18446000000000000000 + (seed % 1000000)}","state":"TCP_ESTABLISHED"}`
  );
}

/** The `i`-th event line (no trailing newline), about 2 KB. */
export function realisticEventLine(i: number): string {
  const h = mix(i);
  const fn = FUNCTIONS[h % FUNCTIONS.length] ?? 'tcp_sendmsg';
  // A few hundred pods so that per-pod series and string caches see realistic reuse.
  const podSeed = mix(h >>> 8) % 400;
  const inPod = h % 10 !== 0;
  const ns = NAMESPACES[podSeed % NAMESPACES.length] ?? 'default';
  const app = APPS[podSeed % APPS.length] ?? 'app';
  const pod: PodShape | undefined = inPod
    ? { namespace: ns, name: `${app}-${hex(podSeed, 10)}-${hex(podSeed * 3, 5)}`, app, seed: podSeed }
    : undefined;
  const procSeed = podSeed * 1000 + (h % 97);
  const execId = base64ish(procSeed, 54);
  const parentExecId = base64ish(procSeed + 1, 54);
  const size = 1 + (mix(h + 1) % 65536);
  const ret = mix(h + 2) % 50 === 0 ? -11 : size - (mix(h + 3) % (size + 1));

  let args: string;
  let withReturn = false;
  if (fn.startsWith('tcp_')) {
    const sock = sockJson(mix(h + 4));
    if (fn === 'tcp_connect' || fn === 'tcp_close') args = `[{"sock_arg":${sock}}]`;
    else {
      args = `[{"sock_arg":${sock}},{"size_arg":"${size}"}]`;
      withReturn = true;
    }
  } else {
    args = `[{"file_arg":{"path":"/var/lib/${app}/data/segment-${h % 1000}.log"}},{"size_arg":"${size}"}]`;
    withReturn = h % 3 !== 0;
  }

  return (
    `{"process_kprobe":{"process":${processJson(procSeed, pod, parentExecId, execId)},` +
    `"parent":${processJson(procSeed + 1, pod, base64ish(procSeed + 2, 54), parentExecId)},` +
    `"function_name":"${fn}","args":${args},` +
    (withReturn ? `"return":{"int_arg":${ret}},` : '') +
    `"action":"KPROBE_ACTION_POST","policy_name":"kovenant-${fn.startsWith('tcp_') ? 'tcp' : 'io'}",` +
    `"return_action":"KPROBE_ACTION_POST"},` +
    `"node_name":"${NODES[(h >>> 4) % NODES.length] ?? 'node'}","time":"${eventTime(i)}"}`
  );
}

/** `count` realistic lines joined by newlines (with a trailing one), as one buffer. */
export function realisticEventBuffer(count: number, first = 0): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(realisticEventLine(first + i));
  parts.push('');
  return Buffer.from(parts.join('\n'), 'utf8');
}

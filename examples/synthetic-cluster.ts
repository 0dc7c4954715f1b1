/**
 * A small, realistic cluster and the Tetragon export it would produce. It feeds the
 * bundled example (`npm run examples` regenerates `examples/`) and the benchmark, so
 * both exercise every attribution rule: Deployments, StatefulSets, DaemonSets on the
 * host network, CronJob → Job pods, bare pods, Helm releases by annotation and by
 * label, an owner missing from the snapshot, Services, nodes, external peers, loopback,
 * IPv4-mapped IPv6, and a completed pod whose IP a running pod has taken over.
 */

/** Deterministic PRNG (mulberry32), so regenerated files are byte-identical. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = Record<string, unknown>;

interface NodeSpec {
  name: string;
  ip: string;
  /** Topology labels (node-c carries only the deprecated failure-domain.beta ones). */
  labels: Record<string, string>;
}

export interface PodSpec {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  ip: string;
  phase: 'Running' | 'Succeeded' | 'Pending';
  hostNetwork?: boolean;
  owner?: { kind: string; name: string };
  labels: Record<string, string>;
  binary: string;
  container: string;
  image: string;
}

interface ControllerSpec {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  owner?: { kind: string; name: string; apiVersion: string };
  release?: string;
}

interface ServiceSpec {
  namespace: string;
  name: string;
  ip: string;
  release?: string;
}

export const START_TIME = Date.UTC(2026, 10, 20, 10, 0, 0);

const NODES: NodeSpec[] = [
  {
    name: 'node-a',
    ip: '10.0.0.11',
    labels: { 'topology.kubernetes.io/zone': 'eu-west-1a', 'topology.kubernetes.io/region': 'eu-west-1' },
  },
  {
    name: 'node-b',
    ip: '10.0.0.12',
    labels: { 'topology.kubernetes.io/zone': 'eu-west-1b', 'topology.kubernetes.io/region': 'eu-west-1' },
  },
  {
    name: 'node-c',
    ip: '10.0.0.13',
    labels: { 'failure-domain.beta.kubernetes.io/zone': 'us-east-1a', 'failure-domain.beta.kubernetes.io/region': 'us-east-1' },
  },
];

const CONTROLLERS: ControllerSpec[] = [
  { kind: 'Deployment', apiVersion: 'apps/v1', namespace: 'shop', name: 'frontend', release: 'shop' },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    namespace: 'shop',
    name: 'frontend-7d9f8b6c5d',
    owner: { kind: 'Deployment', name: 'frontend', apiVersion: 'apps/v1' },
    release: 'shop',
  },
  { kind: 'Deployment', apiVersion: 'apps/v1', namespace: 'shop', name: 'cart', release: 'shop' },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    namespace: 'shop',
    name: 'cart-5f6d7c8b9a',
    owner: { kind: 'Deployment', name: 'cart', apiVersion: 'apps/v1' },
    release: 'shop',
  },
  { kind: 'StatefulSet', apiVersion: 'apps/v1', namespace: 'shop', name: 'redis', release: 'shop-redis' },
  { kind: 'Deployment', apiVersion: 'apps/v1', namespace: 'payments', name: 'api' },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    namespace: 'payments',
    name: 'api-6c8d9e7f5b',
    owner: { kind: 'Deployment', name: 'api', apiVersion: 'apps/v1' },
  },
  { kind: 'CronJob', apiVersion: 'batch/v1', namespace: 'payments', name: 'settlement' },
  {
    kind: 'Job',
    apiVersion: 'batch/v1',
    namespace: 'payments',
    name: 'settlement-29391000',
    owner: { kind: 'CronJob', name: 'settlement', apiVersion: 'batch/v1' },
  },
  { kind: 'DaemonSet', apiVersion: 'apps/v1', namespace: 'monitoring', name: 'node-exporter', release: 'kube-prometheus' },
  // Its Deployment is deliberately absent from the snapshot: the chain stops here.
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    namespace: 'monitoring',
    name: 'grafana-84b7c9d6f4',
    owner: { kind: 'Deployment', name: 'grafana', apiVersion: 'apps/v1' },
  },
];

function pod(
  namespace: string,
  name: string,
  n: number,
  node: string,
  ip: string,
  owner: PodSpec['owner'],
  binary: string,
  extra: Partial<PodSpec> = {},
): PodSpec {
  const container = name.split('-')[0] ?? name;
  return {
    namespace,
    name,
    uid: `0000${n.toString(16).padStart(4, '0')}-7a1b-4c2d-8e3f-${(0x1000000 + n * 7919).toString(16).padStart(12, '0')}`,
    node,
    ip,
    phase: 'Running',
    owner,
    labels: { app: container },
    binary,
    container,
    image: `registry.example.com/${namespace}/${container}:1.${n % 7}.0`,
    ...extra,
  };
}

const helmLabels = (instance: string, app: string): Record<string, string> => ({
  app,
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/instance': instance,
});

export const PODS: PodSpec[] = [
  pod(
    'shop',
    'frontend-7d9f8b6c5d-x2k8p',
    1,
    'node-a',
    '10.244.1.10',
    { kind: 'ReplicaSet', name: 'frontend-7d9f8b6c5d' },
    '/usr/sbin/nginx',
    { labels: helmLabels('shop', 'frontend') },
  ),
  pod(
    'shop',
    'frontend-7d9f8b6c5d-q9w4z',
    2,
    'node-b',
    '10.244.2.10',
    { kind: 'ReplicaSet', name: 'frontend-7d9f8b6c5d' },
    '/usr/sbin/nginx',
    { labels: helmLabels('shop', 'frontend') },
  ),
  pod('shop', 'cart-5f6d7c8b9a-h7j2m', 3, 'node-a', '10.244.1.20', { kind: 'ReplicaSet', name: 'cart-5f6d7c8b9a' }, '/app/cart', {
    labels: helmLabels('shop', 'cart'),
  }),
  // Holds the IP a completed settlement pod held before: the running pod wins.
  pod('shop', 'cart-5f6d7c8b9a-t5r6y', 4, 'node-c', '10.244.3.50', { kind: 'ReplicaSet', name: 'cart-5f6d7c8b9a' }, '/app/cart', {
    labels: helmLabels('shop', 'cart'),
  }),
  pod('shop', 'redis-0', 5, 'node-b', '10.244.2.30', { kind: 'StatefulSet', name: 'redis' }, '/usr/local/bin/redis-server'),
  pod('shop', 'redis-1', 6, 'node-c', '10.244.3.30', { kind: 'StatefulSet', name: 'redis' }, '/usr/local/bin/redis-server'),
  pod('payments', 'api-6c8d9e7f5b-m3n4b', 7, 'node-c', '10.244.3.40', { kind: 'ReplicaSet', name: 'api-6c8d9e7f5b' }, '/usr/bin/java'),
  pod('payments', 'settlement-29391000-8hq2d', 8, 'node-c', '10.244.3.50', { kind: 'Job', name: 'settlement-29391000' }, '/app/settle', {
    phase: 'Succeeded',
  }),
  pod('monitoring', 'node-exporter-4kq7x', 9, 'node-a', '10.0.0.11', { kind: 'DaemonSet', name: 'node-exporter' }, '/bin/node_exporter', {
    hostNetwork: true,
  }),
  pod('monitoring', 'node-exporter-p2m8v', 10, 'node-b', '10.0.0.12', { kind: 'DaemonSet', name: 'node-exporter' }, '/bin/node_exporter', {
    hostNetwork: true,
  }),
  pod(
    'monitoring',
    'grafana-84b7c9d6f4-z8x7c',
    11,
    'node-b',
    '10.244.2.60',
    { kind: 'ReplicaSet', name: 'grafana-84b7c9d6f4' },
    '/usr/share/grafana/bin/grafana',
    { labels: helmLabels('grafana', 'grafana') },
  ),
  pod('shop', 'debug-shell', 12, 'node-a', '10.244.1.99', undefined, '/bin/sh'),
];

const SERVICES: ServiceSpec[] = [
  { namespace: 'default', name: 'kubernetes', ip: '10.96.0.1' },
  { namespace: 'shop', name: 'frontend', ip: '10.96.0.10', release: 'shop' },
  { namespace: 'shop', name: 'cart', ip: '10.96.0.11', release: 'shop' },
  { namespace: 'shop', name: 'redis', ip: '10.96.0.12', release: 'shop-redis' },
  { namespace: 'payments', name: 'api', ip: '10.96.1.5' },
];

const EXTERNAL = ['203.0.113.10', '203.0.113.77', '198.51.100.7', '2001:db8::53'];

function meta(namespace: string | undefined, name: string, uid: string, extra: Json = {}): Json {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    uid,
    resourceVersion: String(1000 + (uid.charCodeAt(uid.length - 1) % 97)),
    creationTimestamp: new Date(START_TIME - 86_400_000).toISOString().replace('.000Z', 'Z'),
    ...extra,
  };
}

function controllerUid(c: ControllerSpec): string {
  let h = 0;
  for (const ch of `${c.kind}/${c.namespace}/${c.name}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return `c0de${h.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
}

/** The `kubectl get ... -A -o json` List for this cluster. */
export function clusterSnapshot(): Json {
  const items: Json[] = [];
  for (const n of NODES) {
    items.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta(undefined, n.name, `n0de0000-0000-4000-8000-${n.name.padStart(12, '0')}`, {
        labels: { 'kubernetes.io/hostname': n.name, ...n.labels },
      }),
      status: {
        addresses: [
          { type: 'InternalIP', address: n.ip },
          { type: 'Hostname', address: n.name },
        ],
      },
    });
  }
  for (const p of PODS) {
    const owner = p.owner
      ? [
          {
            apiVersion: p.owner.kind === 'Job' ? 'batch/v1' : 'apps/v1',
            kind: p.owner.kind,
            name: p.owner.name,
            uid: controllerUid({ kind: p.owner.kind, apiVersion: '', namespace: p.namespace, name: p.owner.name }),
            controller: true,
            blockOwnerDeletion: true,
          },
        ]
      : undefined;
    items.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(p.namespace, p.name, p.uid, { labels: p.labels, ...(owner ? { ownerReferences: owner } : {}) }),
      spec: {
        nodeName: p.node,
        ...(p.hostNetwork ? { hostNetwork: true } : {}),
        containers: [
          {
            name: p.container,
            image: p.image,
            ...(p.hostNetwork ? {} : { ports: [{ containerPort: REMOTE_PORTS.pod!, protocol: 'TCP' }] }),
          },
        ],
      },
      status: {
        phase: p.phase,
        hostIP: NODES.find((n) => n.name === p.node)?.ip,
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        startTime: new Date(START_TIME - (p.phase === 'Succeeded' ? 7_200_000 : 3_600_000)).toISOString().replace('.000Z', 'Z'),
      },
    });
  }
  for (const s of SERVICES) {
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(
        s.namespace,
        s.name,
        `5e7c0000-0000-4000-8000-${s.ip.replace(/\./g, '').padStart(12, '0')}`,
        s.release ? { annotations: { 'meta.helm.sh/release-name': s.release, 'meta.helm.sh/release-namespace': s.namespace } } : {},
      ),
      spec: {
        type: 'ClusterIP',
        clusterIP: s.ip,
        clusterIPs: [s.ip],
        ports: [{ port: s.name === 'kubernetes' ? 443 : REMOTE_PORTS.service!, protocol: 'TCP' }],
      },
    });
  }
  for (const c of CONTROLLERS) {
    const annotations = c.release ? { 'meta.helm.sh/release-name': c.release, 'meta.helm.sh/release-namespace': c.namespace } : undefined;
    const owner = c.owner
      ? {
          ownerReferences: [
            {
              apiVersion: c.owner.apiVersion,
              kind: c.owner.kind,
              name: c.owner.name,
              uid: controllerUid({ ...c.owner, namespace: c.namespace }),
              controller: true,
            },
          ],
        }
      : {};
    items.push({
      apiVersion: c.apiVersion,
      kind: c.kind,
      metadata: meta(c.namespace, c.name, controllerUid(c), { ...(annotations ? { annotations } : {}), ...owner }),
      spec: {},
    });
  }
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/** A Tetragon `process` object, as big as real ones (about 800 bytes). */
function processJson(p: PodSpec | undefined, node: string, pid: number, binary: string, args: string, parentPid: number, tid = pid): Json {
  const execId = b64(`${node}:${pid * 1_000_003}:${pid}`);
  const base: Json = {
    exec_id: execId,
    pid,
    uid: p ? 1000 : 0,
    cwd: p ? '/app' : '/',
    binary,
    arguments: args,
    flags: 'execve rootcwd clone',
    start_time: new Date(START_TIME - 3_000_000 + pid).toISOString(),
    auid: 4294967295,
    parent_exec_id: b64(`${node}:${parentPid * 1_000_003}:${parentPid}`),
    refcnt: 1,
    tid,
  };
  if (p) {
    const cid = `${p.uid.replace(/-/g, '')}${'ab'.repeat(16)}`.slice(0, 64);
    base.pod = {
      namespace: p.namespace,
      name: p.name,
      container: {
        id: `containerd://${cid}`,
        name: p.container,
        image: { id: `${p.image.split(':')[0]}@sha256:${'0123456789abcdef'.repeat(4)}`, name: p.image },
        start_time: new Date(START_TIME - 3_600_000).toISOString().replace('.000Z', 'Z'),
        pid: 1,
      },
      pod_labels: p.labels,
      workload: p.owner?.name ?? p.name,
      workload_kind: p.owner?.kind ?? 'Pod',
    };
    base.docker = cid.slice(0, 31);
  }
  return base;
}

export type EventKind = 'connect' | 'send' | 'recv' | 'close' | 'read' | 'write';

export interface EventChoice {
  local: PodSpec | undefined;
  node: string;
  kind: EventKind;
  remoteIp: string;
  remotePort: number;
  bytes: number;
  timeMs: number;
  withReturn: boolean;
  failed: boolean;
  arch: 'x64' | 'arm64';
  mappedV6: boolean;
}

const FN: Record<EventKind, (arch: 'x64' | 'arm64') => string> = {
  connect: () => 'tcp_connect',
  close: () => 'tcp_close',
  send: () => 'tcp_sendmsg',
  recv: () => 'tcp_recvmsg',
  read: (a) => `__${a}_sys_read`,
  write: (a) => `__${a}_sys_write`,
};

/** A small stable hash, so a pod's processes keep their pids across the stream. */
function stableHash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/**
 * The pid of the process behind an event. On a real node most kprobe events come from a
 * few long-lived processes (a server's workers, the kubelet), so their `process` and
 * `parent` objects repeat byte for byte; `distinct` gives every event a process of its
 * own instead, the worst case for anything that exploits that repetition.
 */
function processPid(c: EventChoice, seq: number, distinct: boolean): number {
  if (distinct) return 1000 + (seq % 30000);
  const slot = seq % 3;
  return 1000 + (stableHash(c.local ? `${c.local.namespace}/${c.local.name}` : c.node) % 20000) * 4 + slot;
}

/**
 * The thread of a long-lived process behind an event: with `threads` > 1 each process
 * has that many threads, so its `process` object repeats but for `tid` (a busy node:
 * a server's worker threads).
 */
function threadOf(pid: number, seq: number, threads: number): number {
  const k = threads > 1 ? (seq * 7 + (seq >>> 3)) % threads : 0;
  return k === 0 ? pid : pid + 100_000 * k;
}

/** One export line for a chosen event. */
export function eventLine(c: EventChoice, pidSeed: number, distinctProcesses = false, threads = 1): string {
  const pid = processPid(c, pidSeed, distinctProcesses);
  const binary = c.local?.binary ?? '/usr/bin/kubelet';
  const process = processJson(
    c.local,
    c.node,
    pid,
    binary,
    c.local
      ? '--config /etc/app/config.yaml --log-level=info'
      : '--config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf',
    pid - 1,
    threadOf(pid, pidSeed, threads),
  );
  // Like real exports, the parent is a shell or the container runtime, often with its own pod.
  const parent = processJson(
    c.local,
    c.node,
    pid - 1,
    c.local ? '/bin/sh' : '/usr/lib/systemd/systemd',
    c.local ? '-c /app/entrypoint.sh' : '--system --deserialize 31',
    1,
  );
  const fn = FN[c.kind](c.arch);
  const args: Json[] = [];
  const tcp = c.kind === 'connect' || c.kind === 'send' || c.kind === 'recv' || c.kind === 'close';
  if (tcp) {
    const v6 = c.remoteIp.includes(':');
    const localIp = c.local && !c.local.hostNetwork ? c.local.ip : (NODES.find((n) => n.name === c.node)?.ip ?? '10.0.0.1');
    const mapped = c.mappedV6 && !v6;
    args.push({
      sock_arg: {
        family: v6 || mapped ? 'AF_INET6' : 'AF_INET',
        type: 'SOCK_STREAM',
        protocol: 'IPPROTO_TCP',
        saddr: mapped ? `::ffff:${localIp}` : v6 ? 'fd00::1' : localIp,
        daddr: mapped ? `::ffff:${c.remoteIp}` : c.remoteIp,
        // One socket per process and peer: its local port and kernel cookie stay the same
        // from event to event, as a real connection's do.
        sport: 30000 + (stableHash(`${pid} ${c.remoteIp} ${c.remotePort}`) % 30000),
        dport: c.remotePort,
        cookie: String(18446462598732840000n + BigInt(stableHash(`${c.node} ${pid} ${c.remoteIp} ${c.remotePort}`))),
        state: 'TCP_ESTABLISHED',
      },
    });
    if (c.kind === 'send' || c.kind === 'recv') args.push({ size_arg: String(c.kind === 'recv' ? 65536 : c.bytes) });
  } else {
    args.push({ file_arg: { path: c.kind === 'read' ? 'var/lib/app/data.db' : 'var/log/app/app.log' } });
    args.push({ size_arg: String(c.withReturn ? 4096 : c.bytes) });
  }
  const kprobe: Json = { process, parent, function_name: fn, args };
  if (c.withReturn && c.kind !== 'connect' && c.kind !== 'close') kprobe.return = { int_arg: c.failed ? -11 : c.bytes };
  kprobe.action = 'KPROBE_ACTION_POST';
  kprobe.policy_name = tcp ? 'kovenant-tcp' : 'kovenant-io';
  const ms = c.timeMs;
  const nanos = String((pidSeed * 7919) % 1_000_000).padStart(6, '0');
  const time = new Date(ms).toISOString().replace('Z', `${nanos}Z`);
  return JSON.stringify({ process_kprobe: kprobe, node_name: c.node, time });
}

/** Other event types Tetragon exports beside our kprobes (skipped by kovenant). */
function otherEventLine(
  kind: 'process_exec' | 'process_exit',
  local: PodSpec | undefined,
  node: string,
  timeMs: number,
  seed: number,
): string {
  const process = processJson(local, node, 2000 + seed, local?.binary ?? '/bin/bash', '-c true', 1999 + seed);
  const parent = processJson(local, node, 1999 + seed, '/bin/sh', '', 1);
  const body: Json =
    kind === 'process_exit' ? { process, parent, signal: 'SIGTERM', time: new Date(timeMs).toISOString() } : { process, parent };
  return JSON.stringify({ [kind]: body, node_name: node, time: new Date(timeMs).toISOString() });
}

const REMOTE_PORTS: Record<string, number> = { service: 80, pod: 8080, node: 10250, external: 443, loopback: 6379 };

/** Picks an event: who (a pod or a host process), what, and toward whom. */
export function chooseEvent(rand: () => number, timeMs: number): EventChoice {
  const running = PODS.filter((p) => p.phase === 'Running');
  const hostProcess = rand() < 0.08;
  const local = hostProcess ? undefined : running[Math.floor(rand() * running.length)];
  const node = local?.node ?? NODES[Math.floor(rand() * NODES.length)]!.name;
  const r = rand();
  const kind: EventKind = r < 0.08 ? 'connect' : r < 0.38 ? 'send' : r < 0.68 ? 'recv' : r < 0.75 ? 'close' : r < 0.88 ? 'read' : 'write';
  const t = rand();
  let remoteIp: string;
  let port: number;
  if (t < 0.3) {
    const s = SERVICES[Math.floor(rand() * SERVICES.length)]!;
    remoteIp = s.ip;
    port = s.name === 'kubernetes' ? 443 : REMOTE_PORTS.service!;
  } else if (t < 0.6) {
    remoteIp = PODS[Math.floor(rand() * PODS.length)]!.ip;
    port = REMOTE_PORTS.pod!;
  } else if (t < 0.72) {
    remoteIp = NODES[Math.floor(rand() * NODES.length)]!.ip;
    port = REMOTE_PORTS.node!;
  } else if (t < 0.9) {
    remoteIp = EXTERNAL[Math.floor(rand() * EXTERNAL.length)]!;
    port = REMOTE_PORTS.external!;
  } else {
    remoteIp = '127.0.0.1';
    port = REMOTE_PORTS.loopback!;
  }
  const bytes = Math.floor(rand() * rand() * 65536);
  return {
    local,
    node,
    kind,
    remoteIp,
    remotePort: port,
    bytes,
    timeMs,
    withReturn: rand() < 0.85,
    failed: rand() < 0.03,
    arch: node === 'node-c' ? 'arm64' : 'x64',
    mappedV6: rand() < 0.1,
  };
}

/**
 * The example stream: `count` lines over `spanMs`, per node in time order (as a node's
 * export is), with about 3% process_exec/process_exit lines mixed in. Each pod's events
 * come from three long-lived processes unless `distinctProcesses` is set; `threads`
 * gives each of them that many threads (`tid` varies, the rest of `process` repeats).
 */
export function* exampleLines(count: number, spanMs: number, seed = 42, distinctProcesses = false, threads = 1): Generator<string> {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const timeMs = START_TIME + Math.floor((i / count) * spanMs);
    if (rand() < 0.03) {
      const local = PODS[Math.floor(rand() * PODS.length)];
      yield otherEventLine(rand() < 0.5 ? 'process_exec' : 'process_exit', local, local?.node ?? 'node-a', timeMs, i);
      continue;
    }
    yield eventLine(chooseEvent(rand, timeMs), i, distinctProcesses, threads);
  }
}

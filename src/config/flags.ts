/**
 * Every config key as a long flag (`conntrackInterval` → `--conntrack-interval`). No
 * flag has a commander default: an absent flag must not hide the env or the file.
 */
import { Option, type Command } from 'commander';
import { CONFIG_KEYS, type ConfigKey } from './daemon-config.ts';
import { DAEMON_OUTPUT_KEYS, OUTPUT_SETTINGS, envHelp } from './output-settings.ts';
import { SHARED_KEYS, collectRepeated, sharedHelp, type SharedKey } from './shared-settings.ts';

type DaemonOutputKey = (typeof DAEMON_OUTPUT_KEYS)[number];

function helpOf(key: ConfigKey): string {
  if ((SHARED_KEYS as readonly string[]).includes(key)) return sharedHelp(key as SharedKey, 'run');
  return (DAEMON_OUTPUT_KEYS as readonly string[]).includes(key)
    ? OUTPUT_SETTINGS[key as DaemonOutputKey].help
    : HELP[key as Exclude<ConfigKey, DaemonOutputKey | SharedKey>];
}

const BOOLEAN_KEYS: ReadonlySet<ConfigKey> = new Set(['conntrack', 'conntrackKeepNode', 'cpu', 'allowEmptyKube']);

/** The keys' help; the sink keys' and the other keys replay shares come from output-settings.ts and shared-settings.ts. */
const HELP: Record<Exclude<ConfigKey, DaemonOutputKey | SharedKey>, string> = {
  events:
    'event source: file:PATH (default file:/var/run/cilium/tetragon/tetragon.log; resumed from --checkpoint-file after a restart), - (stdin), none (collectors only), k8s-logs (the export-stdout logs of every Tetragon pod, through the API server)',
  windowMax: 'largest window for --window dynamic (default 1m)',
  seriesBudget: 'with --window dynamic: points written per minute above which the window grows (default 10000)',
  tetragonNamespace: 'with --events k8s-logs: namespace of the Tetragon pods (default kube-system)',
  tetragonSelector: 'with --events k8s-logs: label selector of the Tetragon pods (default app.kubernetes.io/name=tetragon)',
  tetragonContainer: 'with --events k8s-logs: container whose log carries the JSON export (default export-stdout)',
  maxClockSkew: "events whose time is further ahead of this node's clock are rejected as time_in_future and move no window (default 5m)",
  duration: 'run for this long, flush and exit (sampling, tests)',
  conntrack: 'sample the node conntrack table into kovenant_conntrack (needs net.netfilter.nf_conntrack_acct=1)',
  conntrackInterval: 'conntrack sampling interval (default 5s)',
  conntrackKeepNode: 'keep conntrack flows from or to node addresses (skipped by default)',
  cpu: 'sample /proc/stat (kovenant_node_cpu) and pod cgroups (kovenant_cpu)',
  cpuInterval: 'CPU sampling interval (default 5s)',
  procRoot: 'where the host /proc is (default /proc)',
  cgroupRoot: 'where the host cgroup filesystem is (default /sys/fs/cgroup)',
  output: 'sink: line (default), json, console (a live top-N view) or influx',
  checkpointFile:
    'file:PATH sources: where the resume point is kept (default checkpoint.json beside --spool-dir, else /var/lib/kovenant/checkpoint.json)',
  metricsAddr: 'Prometheus metrics, /healthz and /readyz listen address (default :9464; off to disable)',
  nodeName: 'this node name (the node tag of collector points; env NODE_NAME too)',
  tetragonMetrics:
    "Tetragon's Prometheus endpoint (e.g. http://$HOST_IP:2112/metrics): the increase of its loss counters goes into kovenant_source as kernel_events_lost",
  maxExternalPeers:
    'external peers kept per window and measurement (by bytes), the rest folded into remote_name=other (default 1000; 0 keeps all)',
  dnstapListen:
    'receive CoreDNS dnstap (Frame Streams) on HOST:PORT (e.g. :6000) or a unix socket path; external peers answered by DNS gain a remote_dns tag',
  dnstapConnect:
    "dial CoreDNS's `dnstap listen` endpoint at HOST:PORT (one connection to every address of HOST, e.g. a headless Service of the CoreDNS pods) or a unix socket path; like --dnstap-listen, the other way round",
  dnsCacheMax:
    'with --dnstap-listen or --dnstap-connect: addresses the DNS name cache keeps, least recently used go first (default 100000)',
  dnsGrace:
    'with --dnstap-listen or --dnstap-connect: how long past its TTL an answer still names its address, for connections that outlive the TTL (default 5m)',
};

export function flagName(key: ConfigKey): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export function addConfigFlags(cmd: Command): Command {
  for (const key of CONFIG_KEYS) {
    const help = `${helpOf(key)} ${envHelp(key)}`;
    const option = BOOLEAN_KEYS.has(key)
      ? new Option(flagName(key), help)
      : key === 'kube'
        ? new Option(`${flagName(key)} <snapshot>`, help).argParser(collectRepeated)
        : new Option(`${flagName(key)} <value>`, help);
    cmd.addOption(option);
  }
  return cmd;
}

/** The config keys given as flags (commander's camelCase matches the config keys). */
export function configFromFlags(opts: Record<string, unknown>): Partial<Record<ConfigKey, unknown>> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  for (const key of CONFIG_KEYS) if (opts[key] !== undefined) out[key] = opts[key];
  return out;
}

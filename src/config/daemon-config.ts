/**
 * The daemon's configuration: one YAML file (`--config`), every key also as a flag and
 * as an environment variable (`KOVENANT_<KEY_IN_UPPER_SNAKE>`, and `NODE_NAME` for
 * `nodeName`, which the Downward API sets). Precedence: flags > env > file > defaults.
 * Keys are camelCase; the Helm chart writes them as they are here.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import { InputError } from '../core/input-error.ts';
import { SHARED_SCHEMAS, SHARED_SETTINGS, isDuration, onOff } from './shared-settings.ts';
import { DAEMON_OUTPUT_KEYS, OUTPUT_SETTINGS, envAliasOf, envNameOf, envValue } from './output-settings.ts';

export const TETRAGON_EXPORT_FILE = '/var/run/cilium/tetragon/tetragon.log';
export const DEFAULT_CHECKPOINT_FILE = '/var/lib/kovenant/checkpoint.json';

const duration = () => z.string().refine(isDuration, { message: 'expected a duration such as 500ms, 2s, 5m, 1h' });

const flag = onOff();
/** `run`'s default of a setting replay shares (shared-settings.ts). */
const runDefault = (key: 'window' | 'lateness' | 'maxCachedEntries' | 'decodeThreads'): string => SHARED_SETTINGS[key].defaults.run;
const count = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    ctx.addIssue({ code: 'custom', message: `expected a whole number, 0 or more; got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

/** The shape of the sink keys, from the table replay's flags are made of too. */
function daemonOutputShape(): { [K in (typeof DAEMON_OUTPUT_KEYS)[number]]: (typeof OUTPUT_SETTINGS)[K]['schema'] } {
  return Object.fromEntries(DAEMON_OUTPUT_KEYS.map((k) => [k, OUTPUT_SETTINGS[k].schema])) as {
    [K in (typeof DAEMON_OUTPUT_KEYS)[number]]: (typeof OUTPUT_SETTINGS)[K]['schema'];
  };
}

export const DaemonConfigSchema = z
  .object({
    /** `file:PATH`, `-` (stdin), `none` (collectors only), `k8s-logs` (every Tetragon pod's log). */
    events: z
      .string()
      .regex(/^(file:.+|-|none|k8s-logs)$/, 'expected file:PATH, -, none or k8s-logs')
      .default(`file:${TETRAGON_EXPORT_FILE}`),
    window: SHARED_SCHEMAS.window.default(runDefault('window')),
    windowMax: duration().default('1m'),
    /** `--window dynamic`: points written per minute above which the window grows. */
    seriesBudget: count.pipe(z.number().int().min(1, 'expected at least 1 point per minute')).default(10_000),
    /** `--events k8s-logs`: where the Tetragon pods are and which container exports. */
    tetragonNamespace: z.string().min(1).default('kube-system'),
    tetragonSelector: z.string().min(1).default('app.kubernetes.io/name=tetragon'),
    tetragonContainer: z.string().min(1).default('export-stdout'),
    /** `--events k8s-logs`: the API server (else in-cluster, KUBECONFIG, ~/.kube/config). */
    kubeconfig: SHARED_SCHEMAS.kubeconfig.optional(),
    context: SHARED_SCHEMAS.context.optional(),
    lateness: SHARED_SCHEMAS.lateness.default(runDefault('lateness')),
    /** Events further ahead of the wall clock are rejected (`time_in_future`). */
    maxClockSkew: duration().default('5m'),
    duration: duration().optional(),
    conntrack: flag.default(false),
    conntrackInterval: duration().default('5s'),
    conntrackKeepNode: flag.default(false),
    cpu: flag.default(false),
    cpuInterval: duration().default('5s'),
    procRoot: z.string().min(1).default('/proc'),
    cgroupRoot: z.string().min(1).default('/sys/fs/cgroup'),
    output: z.enum(['line', 'json', 'console', 'influx', 'influx-v1', 'influx-v2']).default('line'),
    /** The sink settings replay shares (output-settings.ts). */
    ...daemonOutputShape(),
    /** Where `file:` sources keep their resume point; default next to the spool dir. */
    checkpointFile: z.string().min(1).optional(),
    metricsAddr: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$|^off$/, 'expected HOST:PORT (e.g. :9464, 127.0.0.1:9464) or off')
      .default(':9464'),
    nodeName: z.string().optional(),
    /** The `cluster` tag of events whose export lacks `cluster_name`. */
    clusterName: SHARED_SCHEMAS.clusterName.optional(),
    kube: SHARED_SCHEMAS.kube.default([]),
    allowEmptyKube: SHARED_SCHEMAS.allowEmptyKube.default(false),
    maxExternalPeers: count.default(1000),
    /** CoreDNS dnstap receiver: HOST:PORT or a unix socket path; absent = off. */
    dnstapListen: z.string().min(1).optional(),
    /** CoreDNS `dnstap listen` endpoint to dial: HOST:PORT (every address of HOST) or a unix socket path. */
    dnstapConnect: z.string().min(1).optional(),
    /** Addresses the DNS name cache keeps at most. */
    dnsCacheMax: count.pipe(z.number().int().min(1, 'expected at least 1 address')).default(100_000),
    /** How long past its TTL a DNS answer still names its address. */
    dnsGrace: duration().default('5m'),
    /** The resolver's one cache bound (attribution-cache.ts). */
    maxCachedEntries: SHARED_SCHEMAS.maxCachedEntries.default(Number(runDefault('maxCachedEntries'))),
    /** Worker threads decoding events (pipeline/decode-stage.ts). */
    decodeThreads: SHARED_SCHEMAS.decodeThreads.prefault(runDefault('decodeThreads')),
    /** Tetragon's Prometheus endpoint, for its loss counters in kovenant_source. */
    tetragonMetrics: z.string().url('expected a URL such as http://127.0.0.1:2112/metrics').optional(),
  })
  .strict();

export type DaemonConfig = z.output<typeof DaemonConfigSchema>;
export type DaemonConfigInput = z.input<typeof DaemonConfigSchema>;
export type ConfigKey = keyof DaemonConfigInput;

export const CONFIG_KEYS = Object.keys(DaemonConfigSchema.shape) as ConfigKey[];
/**
 * The checkpoint of a `file:` source: `checkpointFile`, else `checkpoint.json` beside
 * the spool directory (the state a restart needs lives together), else the default.
 */
export function checkpointFileOf(config: DaemonConfig): string {
  if (config.checkpointFile) return config.checkpointFile;
  if (config.spoolDir) return join(dirname(resolve(config.spoolDir)), 'checkpoint.json');
  return DEFAULT_CHECKPOINT_FILE;
}

/** Keys whose values never reach a log line or `config print`. */
export const SECRET_KEYS: readonly ConfigKey[] = ['influxToken'];

/** `conntrackInterval` → `KOVENANT_CONNTRACK_INTERVAL`. */
export function envName(key: ConfigKey): string {
  return envNameOf(key);
}

/** Which variable each key of a `configFromEnv` result came from, for the error messages. */
const ENV_SOURCES = new WeakMap<object, Partial<Record<ConfigKey, string>>>();

/** The keys set in the environment (lists comma-separated). */
export function configFromEnv(env: NodeJS.ProcessEnv): Partial<Record<ConfigKey, unknown>> {
  const out: Partial<Record<ConfigKey, unknown>> = {};
  const sources: Partial<Record<ConfigKey, string>> = {};
  ENV_SOURCES.set(out, sources);
  for (const key of CONFIG_KEYS) {
    // KOVENANT_* first, then a deprecated alias (INFLUX_URL for influxUrl).
    const v = envValue(key, env);
    if (v === undefined) continue;
    sources[key] = env[envName(key)] === v ? envName(key) : (envAliasOf(key) ?? envName(key));
    out[key] = key === 'kube' ? v.split(',').filter(Boolean) : v;
  }
  if (out.nodeName === undefined && env.NODE_NAME) out.nodeName = env.NODE_NAME;
  return out;
}

export async function configFromFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw InputError.fromFs(path, err);
  }
  let doc: unknown;
  // Loaded with a config file only: the YAML parser is start-up time a flags-only run does not need.
  const { parse: parseYaml } = await import('yaml');
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new InputError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new InputError(`${path}: expected a mapping of option keys`, `keys: ${CONFIG_KEYS.join(', ')}`);
  return doc as Record<string, unknown>;
}

export interface ConfigLayers {
  file?: Record<string, unknown>;
  fileName?: string;
  env?: Partial<Record<ConfigKey, unknown>>;
  flags?: Partial<Record<ConfigKey, unknown>>;
}

/** Merges the layers (flags > env > file > defaults) and validates the result. */
export function resolveConfig(layers: ConfigLayers): DaemonConfig {
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [name, layer] of [
    [layers.fileName ?? 'config file', layers.file],
    ['environment', layers.env],
    ['flag', layers.flags],
  ] as const) {
    for (const [k, v] of Object.entries(layer ?? {})) {
      if (v === undefined) continue;
      merged[k] = v;
      origin[k] = name;
    }
  }
  const result = DaemonConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.length ? issue.path.join('.') : undefined;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys?: string[] }).keys ?? [];
    throw new InputError(
      `config: unknown key ${keys.map((k) => `"${k}"`).join(', ')} (from ${keys.map((k) => origin[k] ?? 'config').join(', ')})`,
      `allowed keys: ${CONFIG_KEYS.join(', ')}`,
    );
  }
  const first = issue.path[0] as ConfigKey;
  const envVar = (layers.env && ENV_SOURCES.get(layers.env)?.[first]) ?? envName(first);
  const where = key
    ? `"${key}" (from ${origin[String(first)] ?? 'default'}${origin[String(first)] === 'environment' ? ` ${envVar}` : ''})`
    : 'config';
  throw new InputError(`config: ${where}: ${issue.message}`, hintFor(String(issue.path[0] ?? '')));
}

function hintFor(key: string): string | undefined {
  const field = (DaemonConfigSchema.shape as Record<string, z.ZodType>)[key];
  const options = field ? enumOptions(field) : undefined;
  return options ? `allowed values: ${options.join(', ')}` : undefined;
}

function enumOptions(schema: z.ZodType): string[] | undefined {
  let s: unknown = schema;
  // Unwrap defaults and optionals down to an enum, if there is one.
  for (let i = 0; i < 4 && s; i++) {
    if (s instanceof z.ZodEnum) return s.options as string[];
    const def = (s as { def?: { innerType?: unknown } }).def;
    s = def?.innerType;
  }
  return undefined;
}

/** The effective config with secrets redacted, for `kovenant config print`. */
export function redactedConfig(config: DaemonConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) if (out[key] !== undefined) out[key] = '[redacted]';
  return out;
}

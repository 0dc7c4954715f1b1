/**
 * The settings `kovenant replay` and `kovenant run` share, beside the sink settings
 * (output-settings.ts): one entry each, the one help text, `<value>`, the zod type that
 * validates and parses it, and each command's default where they truly differ (replay
 * reads a finite file, so its windows may wait for the end of the input; the daemon's
 * cannot). The daemon config's keys (daemon-config.ts), `run`'s flags (flags.ts) and
 * replay's flags (cli/replay-command.ts) are made of this table.
 */
import * as z from 'zod';
import { MAX_WINDOW_MS } from '../aggregate/window.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';
import { cpuBudget } from '../core/cpu-budget.ts';
import { DEFAULT_MAX_CACHED_ENTRIES } from '../enrich/attribution-cache.ts';

export type Command = 'run' | 'replay';

export interface SharedSetting {
  /** `<value>` in the flag's help (none: a boolean switch). */
  value?: string;
  /** What it does, for both commands. */
  help: string;
  /** Per command: appended to the help (its default, what only it accepts). */
  helpOf: Record<Command, string>;
  /** Each command's default, as the text a user would give (none: absent). */
  defaults: Partial<Record<Command, string>>;
  /** Repeatable (`--kube a --kube b`; comma-separated in the environment). */
  list?: boolean;
}

/** A fixed window's length in milliseconds: above 0, a day at most. */
export function windowLengthMs(text: string): number {
  const ms = parseDuration(text, '--window');
  if (ms <= 0) throw new InputError('--window must be longer than 0', 'e.g. --window 10s');
  if (ms > MAX_WINDOW_MS) throw new InputError(`--window ${text}: longer than a day`, 'give --window 1d or less, e.g. 10s');
  return ms;
}

/** A whole number of at least 1, given as a number (YAML) or as text (a flag, a variable). */
export const atLeastOne = (what: string) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      ctx.addIssue({ code: 'custom', message: `expected at least 1 ${what}; got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

/** A switch: `true`/`false` in YAML, or as text from a variable (`true`, `1`, `yes`, ...). */
export function onOff() {
  return z.union([
    z.boolean(),
    z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
  ]);
}

/** The decoding threads `auto` starts at most: the main thread is the bottleneck beyond one (and each costs ~20 MB). */
const MAX_AUTO_DECODE_THREADS = 1;
const MAX_DECODE_THREADS = 16;
const AUTO_DECODE_THREADS_TEXT = `${MAX_AUTO_DECODE_THREADS} when the process may use 2 CPUs or more (cores and cgroup CPU quota), else 0`;

/** `auto`'s decoding threads for a process that may keep `cores` CPUs busy. */
export function autoDecodeThreads(cores = cpuBudget()): number {
  return Math.max(0, Math.min(MAX_AUTO_DECODE_THREADS, cores - 1));
}

/** `auto` or a whole number of threads, 0 to 16, as a number (YAML) or as text. */
const decodeThreads = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (v === 'auto') return autoDecodeThreads();
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_DECODE_THREADS) {
    ctx.addIssue({
      code: 'custom',
      message: `expected auto or a whole number of threads from 0 to ${MAX_DECODE_THREADS}; got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return n;
});

export const SHARED_SETTINGS = {
  window: {
    value: 'duration',
    help: 'window length, aligned to the epoch',
    helpOf: {
      run: '(default 10s), or dynamic (10s up to --window-max, growing when the points per minute exceed --series-budget)',
      replay: '(default 10s)',
    },
    defaults: { run: '10s', replay: '10s' },
  },
  lateness: {
    value: 'duration',
    help: "how long (event time) a window waits for late events: it closes once its node's events are this far past its end",
    helpOf: { run: '(default 2s)', replay: '(default: at the end of the input, exact in any order)' },
    defaults: { run: '2s' },
  },
  clusterName: {
    value: 'name',
    help: 'the cluster tag of points whose events carry no cluster_name (Tetragon --cluster-name)',
    helpOf: { run: '; none by default', replay: '; none by default' },
    defaults: {},
  },
  maxCachedEntries: {
    value: 'n',
    help: 'bound on the attribution cache (pods, peers, series, owner chains together), least recently used evicted',
    helpOf: { run: `(default ${DEFAULT_MAX_CACHED_ENTRIES})`, replay: `(default ${DEFAULT_MAX_CACHED_ENTRIES})` },
    defaults: { run: String(DEFAULT_MAX_CACHED_ENTRIES), replay: String(DEFAULT_MAX_CACHED_ENTRIES) },
  },
  kube: {
    value: 'snapshot',
    help: 'kubectl get nodes,pods,services,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs -A -o json (or yaml) snapshot for attribution; repeatable',
    helpOf: { run: '', replay: '' },
    defaults: {},
    list: true,
  },
  kubeconfig: {
    value: 'file',
    help: "kubeconfig of the cluster to watch for live metadata (instead of --kube); with run --events k8s-logs also where the Tetragon pods' logs are read",
    helpOf: {
      run: '(default: in-cluster service account, else KUBECONFIG, else ~/.kube/config)',
      replay: '(default: KUBECONFIG, else ~/.kube/config)',
    },
    defaults: {},
  },
  context: {
    value: 'name',
    help: 'kubeconfig context to watch',
    helpOf: { run: '', replay: '' },
    defaults: {},
  },
  allowEmptyKube: {
    help: 'accept a --kube snapshot without objects (else refused: attribution would silently use the events alone)',
    helpOf: { run: '', replay: '' },
    defaults: {},
  },
  decodeThreads: {
    value: 'n',
    help: 'worker threads decoding events while the main thread attributes and aggregates them; 0 decodes in the main thread',
    helpOf: {
      run: `(default 0; auto: ${AUTO_DECODE_THREADS_TEXT})`,
      replay: `(default 0; auto: ${AUTO_DECODE_THREADS_TEXT})`,
    },
    // 0: on the 2-core machine it was measured on, a decoding thread costs ~40% more CPU
    // and ~50 MB and gains no wall-clock time (README, Performance).
    defaults: { run: '0', replay: '0' },
  },
} as const satisfies Record<string, SharedSetting>;

export type SharedKey = keyof typeof SHARED_SETTINGS;
export const SHARED_KEYS = Object.keys(SHARED_SETTINGS) as SharedKey[];

/** The one help text of a shared setting, with the command's default. */
export function sharedHelp(key: SharedKey, command: Command): string {
  const s: SharedSetting = SHARED_SETTINGS[key];
  const extra = s.helpOf[command];
  return extra ? `${s.help}${extra.startsWith(';') ? '' : ' '}${extra}` : s.help;
}

/** The validation of each shared key; the daemon config adds the daemon's defaults. */
export const SHARED_SCHEMAS = {
  window: z.string().refine((w) => w === 'dynamic' || isDuration(w), { message: 'expected a duration (e.g. 10s) or dynamic' }),
  lateness: z.string().refine(isDuration, { message: 'expected a duration such as 500ms, 2s, 5m, 1h' }),
  clusterName: z.string(),
  maxCachedEntries: atLeastOne('entry'),
  kube: z.array(z.string()),
  kubeconfig: z.string().min(1),
  context: z.string().min(1),
  allowEmptyKube: onOff(),
  decodeThreads,
} as const satisfies Record<SharedKey, z.ZodType>;

/** Whether `text` is a duration (`500ms`, `2s`, `5m`, `1h`). */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text, 'duration');
    return true;
  } catch {
    return false;
  }
}

/** commander's parser of a repeatable flag (`--kube a --kube b`). */
export function collectRepeated(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

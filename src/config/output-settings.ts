/**
 * The sink settings replay and the daemon share: one key each (the daemon config's key,
 * the flag `--kebab-case`, the variable `KOVENANT_UPPER_SNAKE`), one help text, and for
 * the settings replay used to read from `INFLUX_*` variables, that old name as a
 * deprecated alias (the `KOVENANT_*` name wins when both are set). Defaults live in the
 * sink components' schemas (src/sinks/<name>/component.ts), which parse the values into
 * numbers once; the daemon's zod schema (daemon-config.ts) validates the same keys.
 */
import * as z from 'zod';
import { envNameOf, flagOf } from '../core/config-values.ts';
import { parseByteSize } from '../core/byte-size.ts';
import { parseDuration } from '../core/duration.ts';
import { atLeastOne } from './shared-settings.ts';

function parses(parse: (text: string, what: string) => number, example: string) {
  return z.string().refine(
    (text) => {
      try {
        parse(text, 'value');
        return true;
      } catch {
        return false;
      }
    },
    { message: `expected ${example}` },
  );
}

const duration = () => parses(parseDuration, 'a duration such as 500ms, 2s, 5m, 1h');
const count = atLeastOne('point');

export interface OutputSetting {
  /** The daemon config's validation of the key (replay's values go to the sink's schema only). */
  schema: z.ZodType;
  /** `<value>` in the flag's help. */
  value: string;
  help: string;
  /** Only a flag of replay, not a key of the daemon config. */
  replayOnly?: boolean;
  /** Not listed in `--help` (a secret that belongs in a file or the environment). */
  hidden?: boolean;
  choices?: readonly string[];
  /** Deprecated environment variable still read (after `KOVENANT_*`). */
  alias?: string;
}

export const OUTPUT_SETTINGS = {
  out: { schema: z.string().optional(), value: 'file', help: 'line/json output: write to FILE instead of stdout' },
  influxApi: {
    schema: z.enum(['v1', 'v2']).optional(),
    value: 'version',
    choices: ['v1', 'v2'],
    help: 'influx output: v2 (/api/v2/write, 2.x/3.x/Cloud/1.8+; the default) or v1 (/write, 1.x)',
  },
  influxUrl: {
    schema: z.string().url().optional(),
    value: 'url',
    alias: 'INFLUX_URL',
    help: 'influx output: server URL, e.g. http://influxdb:8086',
  },
  influxOrg: { schema: z.string().optional(), value: 'org', alias: 'INFLUX_ORG', help: 'influx v2: organization' },
  influxBucket: { schema: z.string().optional(), value: 'bucket', alias: 'INFLUX_BUCKET', help: 'influx v2: bucket' },
  influxTokenFile: {
    schema: z.string().optional(),
    value: 'file',
    alias: 'INFLUX_TOKEN_FILE',
    help: 'influx v2: file holding the API token (preferred: not visible in ps)',
  },
  influxToken: {
    schema: z.string().optional(),
    value: 'token',
    alias: 'INFLUX_TOKEN',
    help: 'influx v2: API token (prefer --influx-token-file: flags show in ps)',
  },
  influxDb: { schema: z.string().optional(), value: 'db', alias: 'INFLUX_DB', help: 'influx v1: database' },
  influxRp: {
    schema: z.string().optional(),
    value: 'policy',
    alias: 'INFLUX_RP',
    help: 'influx v1: retention policy (default: the database default)',
  },
  influxUsername: { schema: z.string().optional(), value: 'user', alias: 'INFLUX_USERNAME', help: 'influx v1: username (basic auth)' },
  influxPasswordFile: {
    schema: z.string().optional(),
    value: 'file',
    alias: 'INFLUX_PASSWORD_FILE',
    help: 'influx v1: file holding the password',
  },
  influxPassword: {
    schema: z.string().optional(),
    value: 'password',
    alias: 'INFLUX_PASSWORD',
    help: 'influx v1: password (prefer --influx-password-file)',
    replayOnly: true,
    hidden: true,
  },
  spoolDir: {
    schema: z.string().optional(),
    value: 'dir',
    help: 'influx output: on-disk spool, so points survive outages and restarts (without it, writes wait for InfluxDB)',
  },
  spoolMaxBytes: {
    schema: parses(parseByteSize, 'a size such as 512MiB, 2GiB').optional(),
    value: 'size',
    help: 'influx output: spool bound; the oldest points are dropped (and counted) beyond it, e.g. 512MiB (default 1GiB)',
  },
  spoolFsync: {
    schema: z.enum(['always', 'never']).optional(),
    value: 'policy',
    choices: ['always', 'never'],
    help: 'influx output: always (default: sync every write) or never (survives a crash of kovenant, not of the machine)',
  },
  batchSize: { schema: count.optional(), value: 'points', help: 'influx output: points per request (default 5000)' },
  flushInterval: {
    schema: duration().optional(),
    value: 'duration',
    help: 'influx output: how long a small batch waits for more points (default 1s)',
  },
  drainTimeout: {
    schema: duration().optional(),
    value: 'duration',
    help: 'influx output: on stop, how long to keep retrying before reporting unsent points (default 60s); a disk spool keeps the rest',
  },
  top: { schema: z.string().optional(), value: 'n', help: 'console output: rows per table (default 10)', replayOnly: true },
} as const satisfies Record<string, OutputSetting>;

export type OutputKey = keyof typeof OUTPUT_SETTINGS;

export const OUTPUT_KEYS = Object.keys(OUTPUT_SETTINGS) as OutputKey[];

/** The output settings that are keys of the daemon config too. */
export const DAEMON_OUTPUT_KEYS = OUTPUT_KEYS.filter((k) => !(OUTPUT_SETTINGS[k] as OutputSetting).replayOnly) as Exclude<
  OutputKey,
  'influxPassword' | 'top'
>[];

/** The deprecated variable still read for `key`, if any (`INFLUX_URL` for `influxUrl`). */
export function envAliasOf(key: string): string | undefined {
  return (OUTPUT_SETTINGS as Record<string, OutputSetting>)[key]?.alias;
}

/** `[env KOVENANT_INFLUX_URL, or the deprecated INFLUX_URL]`, for help texts. */
export function envHelp(key: string): string {
  const alias = envAliasOf(key);
  return `[env ${envNameOf(key)}${alias ? `, or the deprecated ${alias}` : ''}]`;
}

/** A setting's value in the environment: `KOVENANT_*` first, then its deprecated alias. */
export function envValue(key: string, env: NodeJS.ProcessEnv): string | undefined {
  const own = env[envNameOf(key)];
  if (own !== undefined && own !== '') return own;
  const alias = envAliasOf(key);
  const old = alias ? env[alias] : undefined;
  return old === undefined || old === '' ? undefined : old;
}

/** Replay's output settings: the flags given, else the environment (flags > env > the sinks' defaults). */
export function outputSettingsOf<T extends Partial<Record<OutputKey, unknown>>>(
  flags: T,
  env: NodeJS.ProcessEnv,
): T & Partial<Record<OutputKey, string>> {
  const out: Record<string, unknown> = { ...flags };
  for (const key of OUTPUT_KEYS) {
    if (out[key] !== undefined) continue;
    const v = envValue(key, env);
    if (v !== undefined) out[key] = v;
  }
  return out as T & Partial<Record<OutputKey, string>>;
}

export { envNameOf, flagOf };

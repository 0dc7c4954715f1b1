/**
 * `--output influx`: InfluxDB's v2 (`/api/v2/write`) or v1 (`/write`) API, through a
 * spool (on disk with `--spool-dir`) with retries. Secrets are read here and handed to
 * the transport only; they are never logged.
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { byteSize, durationMs, envNameOf, flagOf, positiveInt } from '../../core/config-values.ts';
import { InputError } from '../../core/input-error.ts';
import type { MetricPoint } from '../../core/metric-point.ts';
import { BLOCKED_REASONS, DeliveryError } from '../delivery-stats.ts';
import type { InfluxDeliverySink } from '../influx-delivery.ts';
import type { InfluxTarget } from '../influx-sink.ts';
import { refuseOutFile, type SinkComponent, type SinkFactory } from '../sink-component.ts';

const text = z.string().optional();

const schema = z.object({
  out: refuseOutFile(),
  influxApi: z.enum(['v1', 'v2']).default('v2'),
  influxUrl: text,
  influxOrg: text,
  influxBucket: text,
  influxToken: text,
  influxTokenFile: text,
  influxDb: text,
  influxRp: text,
  influxUsername: text,
  influxPassword: text,
  influxPasswordFile: text,
  spoolDir: text,
  spoolMaxBytes: byteSize('--spool-max-bytes').default(1024 ** 3),
  spoolFsync: z.enum(['always', 'never']).optional(),
  batchSize: positiveInt('--batch-size').default(5000),
  flushInterval: durationMs('--flush-interval').default(1000),
  drainTimeout: durationMs('--drain-timeout').default(60_000),
});

export type InfluxSinkSettings = z.output<typeof schema>;

async function secretFromFile(file: string, flag: string): Promise<string> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw InputError.fromFs(`${flag} ${file}`, err);
  }
  const secret = content.trim();
  if (!secret) throw new InputError(`${flag} ${file}: the file is empty`, 'put the secret on its first line');
  return secret;
}

/** Names the setting's flag and its `KOVENANT_*` variable (the `INFLUX_*` aliases are deprecated). */
function required(value: string | undefined, key: keyof InfluxSinkSettings, api: string): string {
  if (value) return value;
  throw new InputError(`--output influx --influx-api ${api} needs ${flagOf(key)}`, `pass ${flagOf(key)} or set ${envNameOf(key)}`);
}

export async function influxTargetOf(o: InfluxSinkSettings): Promise<InfluxTarget> {
  const api = o.influxApi;
  const url = required(o.influxUrl, 'influxUrl', api);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--influx-url: "${url}" is not an http(s) URL`, 'e.g. http://influxdb:8086');
  }
  if (parsed.username || parsed.password) {
    // fetch refuses such URLs with an error that quotes them, password included, into every
    // retry's log line; the messages here must not echo the password either.
    parsed.username = '';
    parsed.password = '';
    throw new InputError(
      `--influx-url: credentials in the URL are not supported (${parsed.href})`,
      'use --influx-username with --influx-password-file (v1), or --influx-token-file (v2)',
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InputError(`--influx-url: "${parsed.href}" is not an http(s) URL`, 'e.g. http://influxdb:8086');
  }
  if (api === 'v1') {
    const db = required(o.influxDb, 'influxDb', api);
    const password = o.influxPasswordFile ? await secretFromFile(o.influxPasswordFile, '--influx-password-file') : o.influxPassword;
    return { api, url, db, rp: o.influxRp, username: o.influxUsername, password };
  }
  const org = required(o.influxOrg, 'influxOrg', api);
  const bucket = required(o.influxBucket, 'influxBucket', api);
  const token = o.influxTokenFile ? await secretFromFile(o.influxTokenFile, '--influx-token-file') : o.influxToken;
  return { api, url, org, bucket, token };
}

/**
 * Keeps a delivery failure from `close()` for after the summary: replay prints what it
 * did first, then exits 1 with how many points were not acknowledged.
 */
class InfluxSinkComponent implements SinkComponent {
  private failure: DeliveryError | undefined;

  constructor(private readonly inner: InfluxDeliverySink) {}

  get destination(): string {
    return this.inner.destination;
  }

  write(points: readonly MetricPoint[]): Promise<void> {
    return this.inner.write(points);
  }

  drain(): void {
    this.inner.drain();
  }

  /** The delivery counts, `spoolBytes`, and `blocked.<reason>` (1 while the server refuses every write for it). */
  stats(): Record<string, number> {
    const { blockedReason, ...counts } = this.inner.stats();
    const out: Record<string, number> = { ...counts };
    for (const reason of BLOCKED_REASONS) out[`blocked.${reason}`] = reason === blockedReason ? 1 : 0;
    return out;
  }

  deliveryFailure(): DeliveryError | undefined {
    return this.failure;
  }

  deliverySummary(): string {
    const s = this.inner.stats();
    return `  points acknowledged: ${s.acknowledged} (${s.requests} requests, ${s.retries} retries, rejected ${s.rejected}, dropped ${s.dropped}, failed ${s.failed}, spooled ${s.pending})\n`;
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } catch (err) {
      if (err instanceof DeliveryError) this.failure = err;
      else throw err;
    }
  }
}

export const influxSink: SinkFactory<typeof schema> = {
  kind: 'sink',
  name: 'influx',
  description: "InfluxDB's v2 or v1 write API, with a disk spool (--spool-dir) and retries",
  schema,
  async create(config, context) {
    const target = await influxTargetOf(config);
    // Loaded for this output only: the clients, spools and their logger cost start-up time.
    const { createInfluxSink } = await import('../influx-sink.ts');
    const inner = await createInfluxSink({
      target,
      spoolDir: config.spoolDir,
      spoolMaxBytes: config.spoolMaxBytes,
      spoolFsync: config.spoolFsync,
      log: context.log,
      delivery: { batchPoints: config.batchSize, flushIntervalMs: config.flushInterval, drainTimeoutMs: config.drainTimeout },
    });
    return new InfluxSinkComponent(inner);
  },
};

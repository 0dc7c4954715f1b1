/**
 * Where points go: `--output line|influx|json|console` and their flags. Flags win over
 * environment variables, which win over defaults (commander's `.env()`):
 *   INFLUX_URL, INFLUX_ORG, INFLUX_BUCKET, INFLUX_TOKEN, INFLUX_TOKEN_FILE, INFLUX_DB,
 *   INFLUX_RP, INFLUX_USERNAME, INFLUX_PASSWORD, INFLUX_PASSWORD_FILE, KOVENANT_SPOOL_DIR,
 *   KOVENANT_SPOOL_MAX_BYTES.
 * Secrets are read here and handed to the sink only; they are never logged.
 */
import { readFile } from 'node:fs/promises';
import { ConsoleSink } from '../sinks/console-sink.ts';
import { DeliveryError, type DeliveryStats } from '../sinks/delivery-stats.ts';
import type { InfluxDeliverySink } from '../sinks/influx-delivery.ts';
import type { InfluxTarget } from '../sinks/influx-sink.ts';
import { JsonLinesSink } from '../sinks/json-sink.ts';
import { LineProtocolSink } from '../sinks/line-sink.ts';
import type { MetricPoint, MetricSink } from '../core/metric-point.ts';
import { parseByteSize } from '../core/byte-size.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';

export const OUTPUTS = ['line', 'influx', 'json', 'console'] as const;
export type OutputKind = (typeof OUTPUTS)[number];

export interface OutputOptions {
  output?: OutputKind;
  out?: string;
  influxApi?: 'v1' | 'v2';
  influxUrl?: string;
  influxOrg?: string;
  influxBucket?: string;
  influxToken?: string;
  influxTokenFile?: string;
  influxDb?: string;
  influxRp?: string;
  influxUsername?: string;
  influxPassword?: string;
  influxPasswordFile?: string;
  spoolDir?: string;
  spoolMaxBytes?: string;
  spoolFsync?: 'always' | 'never';
  batchSize?: string;
  flushInterval?: string;
  drainTimeout?: string;
  top?: string;
}

export interface OpenedSink {
  sink: MetricSink;
  /** For the summary: where the points went. */
  destination: string;
  /** After `sink.close()`: why points were not acknowledged, if they were not. */
  deliveryFailure?: () => DeliveryError | undefined;
  /** After `sink.close()`: one line about delivery for the summary, if the output delivers. */
  deliverySummary?: () => string;
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InputError(`${what}: expected a whole number above 0, got "${text}"`);
  return n;
}

async function secretFromFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw InputError.fromFs(`${flag} ${file}`, err);
  }
  const secret = text.trim();
  if (!secret) throw new InputError(`${flag} ${file}: the file is empty`, 'put the secret on its first line');
  return secret;
}

function required(value: string | undefined, flag: string, env: string, api: string): string {
  if (value) return value;
  throw new InputError(`--output influx --influx-api ${api} needs ${flag}`, `pass ${flag} or set ${env}`);
}

export async function influxTargetOf(o: OutputOptions): Promise<InfluxTarget> {
  const api = o.influxApi ?? 'v2';
  const url = required(o.influxUrl, '--influx-url', 'INFLUX_URL', api);
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
    const db = required(o.influxDb, '--influx-db', 'INFLUX_DB', api);
    const password = o.influxPasswordFile ? await secretFromFile(o.influxPasswordFile, '--influx-password-file') : o.influxPassword;
    return { api, url, db, rp: o.influxRp, username: o.influxUsername, password };
  }
  const org = required(o.influxOrg, '--influx-org', 'INFLUX_ORG', api);
  const bucket = required(o.influxBucket, '--influx-bucket', 'INFLUX_BUCKET', api);
  const token = o.influxTokenFile ? await secretFromFile(o.influxTokenFile, '--influx-token-file') : o.influxToken;
  return { api, url, org, bucket, token };
}

/**
 * Keeps a delivery failure from `close()` for after the summary: replay prints what it
 * did first, then exits 1 with how many points were not acknowledged.
 */
class AccountedSink implements MetricSink {
  failure: DeliveryError | undefined;

  constructor(readonly inner: InfluxDeliverySink) {}

  write(points: readonly MetricPoint[]): Promise<void> {
    return this.inner.write(points);
  }

  stats(): DeliveryStats {
    return this.inner.stats();
  }

  drain(): void {
    this.inner.drain();
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

export async function openSink(options: OutputOptions): Promise<OpenedSink> {
  const output = options.output ?? 'line';
  const toFile = options.out !== undefined && options.out !== '-';
  if (toFile && (output === 'influx' || output === 'console')) {
    throw new InputError(`--out ${options.out}: only --output line or json write to a file`, `drop --out, or use --output line`);
  }
  switch (output) {
    case 'line':
      return toFile && options.out ? { sink: await LineProtocolSink.toFile(options.out), destination: options.out } : { sink: LineProtocolSink.toStdout(), destination: 'stdout' };
    case 'json':
      return toFile && options.out ? { sink: await JsonLinesSink.toFile(options.out), destination: options.out } : { sink: JsonLinesSink.toStdout(), destination: 'stdout' };
    case 'console':
      return { sink: new ConsoleSink({ topN: positiveInt(options.top ?? '10', '--top') }), destination: 'console' };
    case 'influx': {
      const target = await influxTargetOf(options);
      // Loaded for this output only: the clients, spools and their logger cost start-up time.
      const { createInfluxSink } = await import('../sinks/influx-sink.ts');
      const batchPoints = positiveInt(options.batchSize ?? '5000', '--batch-size');
      const inner = await createInfluxSink({
        target,
        spoolDir: options.spoolDir,
        spoolMaxBytes: parseByteSize(options.spoolMaxBytes ?? '1GiB', '--spool-max-bytes'),
        spoolFsync: options.spoolFsync,
        delivery: {
          batchPoints,
          flushIntervalMs: parseDuration(options.flushInterval ?? '1s', '--flush-interval'),
          drainTimeoutMs: parseDuration(options.drainTimeout ?? '60s', '--drain-timeout'),
        },
      });
      const sink = new AccountedSink(inner);
      return {
        sink,
        destination: inner.destination,
        deliveryFailure: () => sink.failure,
        deliverySummary: () => {
          const s = inner.stats();
          return `  points acknowledged: ${s.acknowledged} (${s.requests} requests, ${s.retries} retries, rejected ${s.rejected}, dropped ${s.dropped}, failed ${s.failed}, spooled ${s.pending})\n`;
        },
      };
    }
    default:
      throw new InputError(`--output ${String(output)}: unknown output`, `use one of ${OUTPUTS.join(', ')}`);
  }
}

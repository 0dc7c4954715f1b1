/**
 * InfluxDB 2.x/3.x/Cloud and 1.8+ (`/api/v2/write`) through the official client.
 *
 * The client's own retry machinery is switched off (`maxRetries: 0`, and `writeFailed`
 * hands every error back to us) because, read in its source (1.35):
 * - its retry buffer keeps at most `maxBufferLines` lines in memory and drops the oldest
 *   with only a log line — silent loss for an outage longer than a few batches;
 * - it reads `Retry-After: 30` as 30 *milliseconds*;
 * - batches that overflow `batchSize` are flushed with their errors swallowed.
 * So the client does what it is good at — the request, gzip above `gzipThreshold`, token
 * auth, error parsing — and InfluxDeliverySink does batching, retries and the spool,
 * identically for v1 and v2. One batch is one `writeRecord` + `flush()`: the client
 * counts a record as one line whatever its newlines, so a batch larger than `batchSize`
 * (a spooled record from a run with a larger --batch-size) is still never split into an
 * auto-flush whose error the client would swallow.
 */
import { HttpError, InfluxDB, type WriteApi } from '@influxdata/influxdb-client';
import type { LineTransport } from './line-transport.ts';
import { parseRetryAfter, WriteFailure } from './retry-policy.ts';

export interface InfluxV2Options {
  url: string;
  org: string;
  bucket: string;
  token?: string;
  /** Largest batch the sink will send, in points. */
  maxBatchPoints: number;
  gzipThreshold?: number;
  timeoutMs?: number;
}

function header(headers: HttpError['headers'], name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

function failureOf(err: unknown, destination: string): WriteFailure {
  if (err instanceof HttpError) {
    const json: unknown = err.json;
    const fromJson =
      typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string' ? json.message : undefined;
    const message = fromJson ?? err.body ?? err.message;
    return new WriteFailure(
      `HTTP ${err.statusCode}: ${message}`,
      err.statusCode,
      parseRetryAfter(header(err.headers, 'retry-after')),
      message,
    );
  }
  const code = (err as NodeJS.ErrnoException).code;
  return new WriteFailure(`cannot reach ${destination}: ${code ?? (err as Error).message}`, undefined, undefined, undefined);
}

export class InfluxV2Transport implements LineTransport {
  readonly destination: string;
  private readonly writeApi: WriteApi;

  constructor(options: InfluxV2Options) {
    this.destination = `${new URL(options.url).origin} org=${options.org} bucket=${options.bucket}`;
    const client = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? 30_000 });
    this.writeApi = client.getWriteApi(options.org, options.bucket, 'ns', {
      batchSize: options.maxBatchPoints + 1,
      maxBatchBytes: Number.MAX_SAFE_INTEGER,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: options.maxBatchPoints + 1,
      gzipThreshold: options.gzipThreshold ?? 1000,
      // Returning a rejected promise makes the client skip its own logging and retry buffer.
      writeFailed: (error: Error) => Promise.reject(error),
    });
  }

  async send(body: string): Promise<void> {
    this.writeApi.writeRecord(body);
    try {
      await this.writeApi.flush();
    } catch (err) {
      // The client insists on 204/201; a proxy's 200 still means written, as it does for v1.
      if (err instanceof HttpError && err.statusCode >= 200 && err.statusCode < 300) return;
      throw failureOf(err, this.destination);
    }
  }

  async close(): Promise<void> {
    // Nothing is buffered in the client between sends; dispose releases its timers.
    this.writeApi.dispose();
  }
}

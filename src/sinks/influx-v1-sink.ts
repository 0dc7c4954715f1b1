/**
 * InfluxDB 1.x `/write` (also 1.8+'s and VictoriaMetrics' compatible endpoint): one POST
 * per batch, gzip above a threshold, basic auth when a username is given. Retries live in
 * InfluxDeliverySink; this only turns each answer into success or a WriteFailure.
 */
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { LineTransport } from './line-transport.ts';
import { parseRetryAfter, WriteFailure } from './retry-policy.ts';

const gzipAsync = promisify(gzip);

export interface InfluxV1Options {
  url: string;
  db: string;
  rp?: string;
  username?: string;
  password?: string;
  /** Bodies larger than this many bytes are gzipped. */
  gzipThreshold?: number;
  timeoutMs?: number;
}

/** InfluxDB 1.x answers errors as `{"error": "..."}`; proxies answer with whatever they like. */
function serverMessage(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      if ('error' in parsed && typeof parsed.error === 'string') return parsed.error;
      if ('message' in parsed && typeof parsed.message === 'string') return parsed.message;
    }
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 500);
}

export class InfluxV1Transport implements LineTransport {
  readonly destination: string;
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: InfluxV1Options) {
    const url = new URL('write', options.url.endsWith('/') ? options.url : `${options.url}/`);
    url.searchParams.set('db', options.db);
    if (options.rp) url.searchParams.set('rp', options.rp);
    url.searchParams.set('precision', 'ns');
    this.endpoint = url.toString();
    this.destination = `${new URL(options.url).origin} db=${options.db}${options.rp ? ` rp=${options.rp}` : ''}`;
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (options.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  async send(body: string, _points?: number, signal?: AbortSignal): Promise<void> {
    const raw = Buffer.from(body, 'utf8');
    const gzipped = raw.length > (this.options.gzipThreshold ?? 1000);
    const payload = gzipped ? await gzipAsync(raw) : raw;
    const headers = gzipped ? { ...this.headers, 'content-encoding': 'gzip' } : this.headers;
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: payload,
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 30_000)])
          : AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const what = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new WriteFailure(`cannot reach ${this.destination}: ${what}`, undefined, undefined, undefined);
    }
    if (res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    const text = await res.text().catch(() => '');
    const message = serverMessage(text) || res.headers.get('x-influxdb-error') || res.statusText;
    throw new WriteFailure(`HTTP ${res.status}: ${message}`, res.status, parseRetryAfter(res.headers.get('retry-after')), message);
  }

  async close(): Promise<void> {}
}

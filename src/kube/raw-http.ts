/**
 * Raw GETs on the Kubernetes API server, signed by KubeConfig's `applyToHTTPSOptions` (so
 * every auth method client-node supports applies), for what client-node's own clients
 * cannot do: its `Log` pipes the response into a Writable and ends it when the response
 * ends, and `pipe` does not forward the response's errors, so a cut log stream could not
 * be told from a clean end (which decides between resuming and letting a pod go); and a
 * follower's `sinceTime` resume needs the stream's bytes exactly as the kubelet sent them.
 *
 * `KubeConfig` is only a type here: client-node (about 0.6 s to load) comes in with the
 * caller's kubeconfig, never with this module.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  KubeStatusError,
  describeKubeFailure,
  isAccessDenied,
  kubeAccessError,
  type AccessGrant,
  type KubeRequest,
} from './api-failure.ts';

export class KubeHttp {
  constructor(
    private readonly config: KubeConfig,
    /** The API server URL (may carry a path prefix). */
    readonly server: string,
    /** What the caller needs granted, for the hint of a 403. */
    private readonly grant: AccessGrant,
  ) {}

  /**
   * Opens `path`; a status other than 2xx rejects: 401/403 with the user-facing error
   * (InputError naming the request and the RBAC rule), others with KubeStatusError.
   */
  async get(path: string, request: Omit<KubeRequest, 'server'>, signal: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const opts: RequestOptions = { method: 'GET', headers: { accept: 'application/json' } };
    await this.config.applyToHTTPSOptions(opts);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { ...opts, signal }, resolve);
      req.on('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const err = new KubeStatusError(status, await readAll(res).catch(() => ''));
    if (isAccessDenied(status)) throw kubeAccessError(describeKubeFailure(err, { ...request, server: this.server }, this.grant));
    throw err;
  }
}

export async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const c of res) text += c as string;
  return text;
}

/**
 * Calls `onLine` for each complete line (without its newline) and `onChunk` after each
 * network chunk's lines; a last line without newline is dropped (a cut stream). The next
 * chunk is read only once `onChunk` settles: that is the backpressure of its caller.
 */
export async function readLines(res: IncomingMessage, onLine: (line: string) => void, onChunk?: () => void | Promise<void>): Promise<void> {
  let rest = '';
  // Decoded as a stream: a character split between two chunks stays whole.
  res.setEncoding('utf8');
  for await (const chunk of res) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.trim() !== '') onLine(line);
    }
    rest = text.slice(start);
    await onChunk?.();
  }
}

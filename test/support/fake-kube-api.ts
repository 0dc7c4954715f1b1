/**
 * An in-test Kubernetes API server that speaks enough list/watch for informers: real
 * HTTP on 127.0.0.1, paginated lists (limit/continue), chunked watch streams from a
 * resourceVersion, bookmarks, `410 Gone` for compacted versions, and faults (HTTP
 * errors, ERROR events, requests never answered, dropped and truncated streams) a test
 * can inject while events flow.
 *
 * Kept only for what the real kube-apiserver (test/support/kube-apiserver.ts) cannot be
 * made to do on demand: faults, silence, request counts, a controlled clock. Each test
 * file that uses it says why in its header.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface FakeObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

interface ResourceDef {
  kind: string;
  path: string;
  apiVersion: string;
}

const RESOURCES: readonly ResourceDef[] = [
  { kind: 'Pod', path: '/api/v1/pods', apiVersion: 'v1' },
  { kind: 'Service', path: '/api/v1/services', apiVersion: 'v1' },
  { kind: 'Node', path: '/api/v1/nodes', apiVersion: 'v1' },
  { kind: 'ReplicaSet', path: '/apis/apps/v1/replicasets', apiVersion: 'apps/v1' },
  { kind: 'Deployment', path: '/apis/apps/v1/deployments', apiVersion: 'apps/v1' },
  { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets', apiVersion: 'apps/v1' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets', apiVersion: 'apps/v1' },
  { kind: 'Job', path: '/apis/batch/v1/jobs', apiVersion: 'batch/v1' },
  { kind: 'CronJob', path: '/apis/batch/v1/cronjobs', apiVersion: 'batch/v1' },
];

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface LoggedEvent {
  rv: number;
  type: WatchType;
  object: FakeObject;
}

interface OpenWatch {
  kind: string;
  res: ServerResponse;
}

export interface Fault {
  verb: 'list' | 'watch';
  kind: string;
  status: number;
  /** How many requests fail; default 1. */
  times?: number;
  /**
   * How it fails: an HTTP error (default); for a watch, a 200 whose stream carries one
   * ERROR event with this status and then ends; or no answer at all until the server closes.
   */
  as?: 'http' | 'event' | 'hang';
}

export interface RequestRecord {
  verb: 'list' | 'watch';
  kind: string;
  query: Record<string, string>;
}

export interface FakeKubeApi {
  readonly url: string;
  /** Adds or replaces an object (by kind/namespace/name), emitting ADDED or MODIFIED. */
  put(obj: FakeObject): FakeObject;
  /** Loads many objects without recording watch events (for benchmarks). */
  load(objs: Iterable<FakeObject>): void;
  remove(kind: string, namespace: string | undefined, name: string): void;
  /** Sends a BOOKMARK with the current resourceVersion on every open watch. */
  bookmark(): void;
  /** Compacts history: open watches get ERROR 410 and end; older versions answer 410. */
  expire(): void;
  /** Ends every open watch stream cleanly (as an API server's timeout does). */
  dropWatches(): void;
  /** Writes half an event to every open watch, then cuts the connection. */
  truncateWatches(): void;
  /** Next matching requests fail with this HTTP status. */
  fail(fault: Fault): void;
  clearFaults(): void;
  /** Stops answering (every connection reset) until `resume()`; the port stays ours. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  openWatches(kind?: string): number;
  readonly requests: RequestRecord[];
  /** Connections reset while paused: a client's attempts to reach the stopped server. */
  readonly refusedConnections: number;
  writeKubeconfig(file: string, context?: string): void;
  close(): Promise<void>;
}

function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  let rv = 1000;
  let compactedRv = 0;
  let uidSeq = 0;
  const objects = new Map<string, Map<string, FakeObject>>(RESOURCES.map((r) => [r.kind, new Map()]));
  const history: LoggedEvent[] = [];
  const watches = new Set<OpenWatch>();
  const faults: Fault[] = [];
  const requests: RequestRecord[] = [];
  const resourceByPath = new Map(RESOURCES.map((r) => [r.path, r]));
  const resourceByKind = new Map(RESOURCES.map((r) => [r.kind, r]));

  function store(kind: string): Map<string, FakeObject> {
    const m = objects.get(kind);
    if (!m) throw new Error(`fake-kube-api: unsupported kind ${kind}`);
    return m;
  }

  function takeFault(verb: 'list' | 'watch', kind: string): Fault | undefined {
    const i = faults.findIndex((f) => f.verb === verb && f.kind === kind);
    if (i < 0) return undefined;
    const f = faults[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) faults.splice(i, 1);
    return f;
  }

  function stamp(obj: FakeObject): FakeObject {
    const def = resourceByKind.get(obj.kind);
    if (!def) throw new Error(`fake-kube-api: unsupported kind ${obj.kind}`);
    const old = store(obj.kind).get(objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name));
    rv++;
    return {
      ...obj,
      apiVersion: def.apiVersion,
      metadata: { ...obj.metadata, uid: obj.metadata.uid ?? old?.metadata.uid ?? `uid-${++uidSeq}`, resourceVersion: String(rv) },
    };
  }

  function send(w: OpenWatch, type: string, object: unknown): void {
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  function emit(type: WatchType, object: FakeObject): void {
    history.push({ rv: Number(object.metadata.resourceVersion), type, object });
    for (const w of watches) if (w.kind === object.kind) send(w, type, object);
  }

  function list(def: ResourceDef, query: Record<string, string>, res: ServerResponse): void {
    const all = [...store(def.kind).values()];
    const limit = Number(query.limit ?? 0) || all.length;
    let offset = 0;
    if (query.continue) {
      const [tokenRv, tokenOffset] = query.continue.split(':').map(Number);
      if ((tokenRv ?? 0) < compactedRv) {
        res.writeHead(410, { 'content-type': 'application/json' });
        res.end(statusBody(410, 'Expired', 'The provided continue parameter is too old'));
        return;
      }
      offset = tokenOffset ?? 0;
    }
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? `${rv}:${offset + limit}` : undefined;
    // Typed lists leave each item's kind and apiVersion out, like the real API server.
    const items = page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: `${def.kind}List`,
        apiVersion: def.apiVersion,
        metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) },
        items,
      }),
    );
  }

  function watch(def: ResourceDef, query: Record<string, string>, req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The real API server answers a watch at once; clients wait for these headers.
    res.flushHeaders();
    const w: OpenWatch = { kind: def.kind, res };
    const from = Number(query.resourceVersion ?? 0);
    if (!query.resourceVersion || from < compactedRv) {
      send(w, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Expired',
        code: 410,
        message: `too old resource version: ${from} (${compactedRv})`,
      });
      res.end();
      return;
    }
    for (const e of history) if (e.rv > from && e.object.kind === def.kind) send(w, e.type, e.object);
    watches.add(w);
    const forget = (): void => {
      watches.delete(w);
    };
    req.on('close', forget);
    res.on('close', forget);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams);
    const def = resourceByPath.get(url.pathname);
    if (!def || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(statusBody(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`));
      return;
    }
    const verb = query.watch === 'true' || query.watch === '1' ? 'watch' : 'list';
    requests.push({ verb, kind: def.kind, query });
    const fault = takeFault(verb, def.kind);
    if (fault?.as === 'hang') return;
    if (fault?.as === 'event') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: JSON.parse(statusBody(fault.status, 'InternalError', `fault injected for ${verb}`)) as unknown })}\n`,
      );
      return;
    }
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      const plural = def.path.split('/').pop() ?? '';
      const group = def.apiVersion.includes('/') ? def.apiVersion.split('/')[0] : '';
      const message =
        fault.status === 403
          ? `${plural}${group ? `.${group}` : ''} is forbidden: User "system:serviceaccount:kovenant:kovenant" cannot ${verb} resource "${plural}" in API group "${group}" at the cluster scope`
          : `fault injected for ${verb} ${plural}`;
      res.end(statusBody(fault.status, fault.status === 403 ? 'Forbidden' : 'InternalError', message));
      return;
    }
    if (verb === 'watch') watch(def, query, req, res);
    else list(def, query, res);
  }

  let paused = false;
  let refusedConnections = 0;
  const server: Server = createServer(handle);
  server.on('connection', (socket) => {
    if (!paused) return;
    refusedConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  function endWatches(): void {
    for (const w of watches) w.res.end();
    watches.clear();
  }

  const api: FakeKubeApi = {
    url,
    requests,
    get refusedConnections() {
      return refusedConnections;
    },
    put(obj) {
      const key = objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
      const existed = store(obj.kind).has(key);
      const stored = stamp(obj);
      store(obj.kind).set(key, stored);
      emit(existed ? 'MODIFIED' : 'ADDED', stored);
      return stored;
    },
    load(objs) {
      for (const obj of objs) {
        const stored = stamp(obj);
        store(obj.kind).set(objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name), stored);
      }
      compactedRv = rv;
    },
    remove(kind, namespace, name) {
      const key = objectKey(kind, namespace, name);
      const old = store(kind).get(key);
      if (!old) throw new Error(`fake-kube-api: no ${key} to delete`);
      store(kind).delete(key);
      rv++;
      emit('DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } });
    },
    bookmark() {
      for (const w of watches) {
        const def = resourceByKind.get(w.kind);
        send(w, 'BOOKMARK', { kind: w.kind, apiVersion: def?.apiVersion, metadata: { resourceVersion: String(rv) } });
      }
    },
    expire() {
      compactedRv = rv;
      history.length = 0;
      for (const w of watches) {
        send(w, 'ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'too old resource version',
        });
      }
      endWatches();
    },
    dropWatches: endWatches,
    truncateWatches() {
      for (const w of watches) {
        w.res.write('{"type":"MODIFIED","object":{"kind":"Pod","metad');
        w.res.socket?.destroy();
      }
      watches.clear();
    },
    fail(fault) {
      faults.push({ ...fault });
    },
    clearFaults() {
      faults.length = 0;
    },
    async pause() {
      // The port stays ours: closing the listener and listening again later races with
      // other tests that take ephemeral ports. New connections are reset instead, which
      // a client sees as an unreachable server just the same.
      paused = true;
      endWatches();
      server.closeAllConnections();
    },
    async resume() {
      paused = false;
    },
    openWatches(kind) {
      let n = 0;
      for (const w of watches) if (!kind || w.kind === kind) n++;
      return n;
    },
    writeKubeconfig(file, context = 'fake') {
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: fake`,
          `  cluster: {server: "${url}", insecure-skip-tls-verify: true}`,
          'users:',
          '- name: tester',
          '  user: {token: test-token}',
          'contexts:',
          `- name: ${context}`,
          '  context: {cluster: fake, user: tester}',
          `current-context: ${context}`,
          '',
        ].join('\n'),
      );
    },
    async close() {
      endWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

/**
 * An in-test API server for `--events k8s-logs`: real HTTP on 127.0.0.1 with chunked
 * responses. Pods of one namespace (list, watch), and their container logs with
 * `follow`, `timestamps` and `sinceTime`, which, like the real API server, is cut to
 * whole seconds: a resumed stream repeats the lines of that second.
 */
import { createServer, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.ts';

interface LogLine {
  time: string;
  text: string;
}

interface FakePod {
  name: string;
  uid: string;
  restartCount: number;
  /** One log per container instance; the follow streams serve the last. */
  logs: LogLine[][];
}

export interface LogRequest {
  pod: string;
  query: Record<string, string>;
}

export interface FakeLogApi {
  readonly url: string;
  addPod(name: string): void;
  deletePod(name: string): void;
  /** A new container instance: its log starts empty; open streams of the old one end. */
  restartContainer(name: string): void;
  /** Appends lines to the pod's current log at `time` (RFC 3339, as the kubelet writes it). */
  append(name: string, lines: string[], time: string): void;
  /** Writes half of the pod's next line to its open streams and cuts them (or, with no line, just cuts). */
  cutStreams(name: string, halfLine?: string): void;
  /** pods/log answers 403 from now on. */
  forbidLogs(): void;
  readonly logRequests: LogRequest[];
  openLogStreams(name: string): number;
  /** Bytes written to the pod's open log streams that TCP has not let out yet (the client holds back). */
  unsentLogBytes(name: string): number;
  writeKubeconfig(file: string): void;
  close(): Promise<void>;
}

export async function startFakeLogApi(namespace = 'kube-system'): Promise<FakeLogApi> {
  let rv = 100;
  let uidSeq = 0;
  let forbidden = false;
  const pods = new Map<string, FakePod>();
  const watches = new Set<ServerResponse>();
  const streams = new Map<string, Set<ServerResponse>>();
  const logRequests: LogRequest[] = [];

  const podObject = (p: FakePod): object => ({
    metadata: { name: p.name, namespace, uid: p.uid, resourceVersion: String(rv), labels: { 'app.kubernetes.io/name': 'tetragon' } },
    spec: { nodeName: `node-${p.name}` },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'export-stdout', restartCount: p.restartCount, state: { running: { startedAt: '2030-01-01T00:00:00Z' } } },
      ],
    },
  });
  const emit = (type: string, p: FakePod): void => {
    rv++;
    for (const w of watches) w.write(JSON.stringify({ type, object: podObject(p) }) + '\n');
  };
  const streamsOf = (name: string): Set<ServerResponse> => {
    let s = streams.get(name);
    if (!s) streams.set(name, (s = new Set()));
    return s;
  };
  const endStreams = (name: string): void => {
    for (const r of streamsOf(name)) r.end();
    streamsOf(name).clear();
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const podsPath = `/api/v1/namespaces/${namespace}/pods`;
    if (url.pathname === podsPath && query.watch) {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      watches.add(res);
      res.on('close', () => watches.delete(res));
      return;
    }
    if (url.pathname === podsPath) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(rv) },
          items: [...pods.values()].map(podObject),
        }),
      );
      return;
    }
    const m = new RegExp(`^${podsPath}/([^/]+)/log$`).exec(url.pathname);
    const pod = m ? pods.get(decodeURIComponent(m[1]!)) : undefined;
    if (m) logRequests.push({ pod: decodeURIComponent(m[1]!), query });
    if (m && forbidden) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          status: 'Failure',
          reason: 'Forbidden',
          code: 403,
          message: `pods "${m[1]}" is forbidden: User "system:serviceaccount:monitoring:kovenant" cannot get resource "pods/log" in API group "" in the namespace "${namespace}"`,
        }),
      );
      return;
    }
    if (!pod || query.container !== 'export-stdout') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 404, message: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    // The API server passes sinceTime on in whole seconds.
    const since = query.sinceTime ? Math.floor(Date.parse(query.sinceTime) / 1000) * 1000 : -Infinity;
    const log = pod.logs[pod.logs.length - 1]!;
    const old = log.filter((l) => Date.parse(l.time) >= since);
    if (old.length) res.write(old.map((l) => `${l.time} ${l.text}\n`).join(''));
    if (query.follow !== 'true') {
      res.end();
      return;
    }
    const set = streamsOf(pod.name);
    set.add(res);
    res.on('close', () => set.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    logRequests,
    addPod(name) {
      const p: FakePod = { name, uid: `uid-${++uidSeq}`, restartCount: 0, logs: [[]] };
      pods.set(name, p);
      emit('ADDED', p);
    },
    deletePod(name) {
      const p = pods.get(name);
      if (!p) return;
      pods.delete(name);
      endStreams(name);
      emit('DELETED', p);
    },
    restartContainer(name) {
      const p = pods.get(name)!;
      p.restartCount++;
      p.logs.push([]);
      endStreams(name);
      emit('MODIFIED', p);
    },
    append(name, lines, time) {
      const p = pods.get(name)!;
      const log = p.logs[p.logs.length - 1]!;
      for (const text of lines) log.push({ time, text });
      const chunk = lines.map((text) => `${time} ${text}\n`).join('');
      for (const r of streamsOf(name)) r.write(chunk);
    },
    cutStreams(name, halfLine) {
      for (const r of streamsOf(name)) {
        if (halfLine) r.write(halfLine.slice(0, Math.floor(halfLine.length / 2)));
        r.socket?.destroy();
      }
      streamsOf(name).clear();
    },
    forbidLogs() {
      forbidden = true;
    },
    openLogStreams(name) {
      return streamsOf(name).size;
    },
    unsentLogBytes(name) {
      let n = 0;
      for (const r of streamsOf(name)) n += r.writableLength;
      return n;
    },
    writeKubeconfig(file) {
      writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          `- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
          'users:',
          '- name: fake\n  user:\n    token: test-token',
          'contexts:',
          '- name: fake\n  context:\n    cluster: fake\n    user: fake',
          'current-context: fake',
          '',
        ].join('\n'),
      );
    },
    async close() {
      for (const w of watches) w.destroy();
      for (const s of streams.values()) for (const r of s) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fake API server closed after the test, and a kubeconfig pointing at it in a temp dir removed then. */
export async function fakeLogApiWithKubeconfig(
  cleanup: Cleanup,
  prefix: string,
  namespace?: string,
): Promise<{ api: FakeLogApi; dir: string; kubeconfig: string }> {
  const api = cleanup.add(await startFakeLogApi(namespace), (a) => a.close());
  const dir = cleanup.tempDir(prefix);
  const kubeconfig = join(dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig);
  return { api, dir, kubeconfig };
}

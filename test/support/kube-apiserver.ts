/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver (built by
 * `npm run tools` into .tools/bin) on loopback ports, with temporary data directories,
 * certificates made here with openssl, a static admin token (system:masters), a
 * service-account signing key (so TokenRequest works) and `--authorization-mode=Node,RBAC`.
 * No controller-manager, scheduler or kubelet runs: tests create what those would
 * (ReplicaSets, the "default" ServiceAccount, pod status) themselves.
 *
 * Expensive (seconds of CPU to start): one per test file.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { freePort } from './servers.ts';
import { stopChild, waitForProcess } from './server-process.ts';

export const TOOLS_BIN = resolve(import.meta.dirname, '../../.tools/bin');
export const tool = (name: string): string => join(TOOLS_BIN, name);

/**
 * True when the tools are built; in CI (`CI` set) their absence is a failure, since
 * `.ci/run` builds them, and locally it is a skip with a hint.
 */
export function haveTools(...names: string[]): boolean {
  const missing = names.filter((n) => !existsSync(tool(n)));
  if (!missing.length) return true;
  const message = `${missing.map(tool).join(', ')} missing: run \`npm run tools\` to build them`;
  if (process.env.CI) throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}

export interface KubeResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeApiServer {
  url: string;
  /** PEM of the CA that signed the serving certificate. */
  ca: string;
  adminToken: string;
  /** Request as the admin (system:masters); JSON bodies unless `contentType` says otherwise. */
  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options?: { contentType?: string; token?: string },
  ): Promise<KubeResponse<T>>;
  /** Like `request`, but throws on a status of 300 or more, naming the call and the server's message. */
  must<T = unknown>(method: string, path: string, body?: unknown, options?: { contentType?: string; token?: string }): Promise<T>;
  /** A kubeconfig for this server with a bearer token (the admin's unless given). */
  writeKubeconfig(file: string, options?: { token?: string; context?: string }): void;
  /**
   * Server-side apply as `kubectl apply --server-side [--dry-run=server]` does it, with
   * strict field validation (unknown or duplicate fields are errors). Resolves to the
   * response; the caller judges the status.
   */
  apply(obj: KubeManifest, options?: { dryRun?: boolean; token?: string }): Promise<KubeResponse>;
  /** The REST path of an object, found through API discovery (so CRDs work too). */
  pathOf(obj: KubeManifest): Promise<string>;
  /** Compacts etcd's history up to its current revision, so older watches get 410 Gone. */
  compactEtcd(): Promise<void>;
  /** Stops the apiserver only (etcd keeps the data) and starts it again on the same port. */
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  close(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** CA, a serving certificate for 127.0.0.1/localhost, and the service-account key pair. */
function makeCertificates(dir: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=kovenant-test-ca',
  ]);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-out', 'sa.key', '-pkeyopt', 'rsa_keygen_bits:2048']);
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

/** Keeps the last lines a process printed, for the error when it fails to come up. */
function tail(child: ChildProcess): () => string {
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => out;
}

export async function startKubeApiServer(options: { extraArgs?: string[] } = {}): Promise<KubeApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-apiserver-'));
  makeCertificates(dir);
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  // Static token file: token,user,uid,"group1,group2".
  writeFileSync(join(dir, 'tokens.csv'), `${adminToken},kovenant-test-admin,admin-uid,"system:masters"\n`);
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const [etcdPort, peerPort, port] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const url = `https://127.0.0.1:${port}`;

  const etcd = spawn(
    tool('etcd'),
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      etcdUrl,
      '--advertise-client-urls',
      etcdUrl,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${peerPort}`,
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } },
  );
  const etcdOutput = tail(etcd);
  await waitForProcess('etcd', etcd, async () => (await fetch(`${etcdUrl}/health`)).ok, 60_000, etcdOutput);

  let apiserver: ChildProcess | undefined;
  let apiOutput = (): string => '';

  const send = <T>(
    method: string,
    path: string,
    body?: unknown,
    options: { contentType?: string; token?: string } = {},
  ): Promise<KubeResponse<T>> =>
    new Promise((done, fail) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request(
        `${url}${path}`,
        {
          method,
          ca,
          headers: {
            authorization: `Bearer ${options.token ?? adminToken}`,
            accept: 'application/json',
            ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (healthz answers "ok")
            }
            done({ status: res.statusCode ?? 0, body: parsed as T, text });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end(payload);
    });

  const startApiServer = async (): Promise<void> => {
    apiserver = spawn(
      tool('kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // The default/kubernetes Endpoints may not name a loopback address; nothing here reads them.
        '--endpoint-reconciler-type=none',
        `--secure-port=${port}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${join(dir, 'server.crt')}`,
        `--tls-private-key-file=${join(dir, 'server.key')}`,
        `--client-ca-file=${join(dir, 'ca.crt')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc',
        '--api-audiences=https://kubernetes.default.svc',
        '--authorization-mode=Node,RBAC',
        // As every real cluster that runs privileged DaemonSets (kubeadm sets it too).
        '--allow-privileged=true',
        '--service-cluster-ip-range=10.96.0.0/16',
        // No kubelet answers: pod logs and exec are not what these tests ask of it.
        '--kubelet-preferred-address-types=InternalIP',
        '--profiling=false',
        '--v=0',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    apiOutput = tail(apiserver);
    await waitForProcess('kube-apiserver', apiserver, async () => (await send('GET', '/readyz')).status === 200, 120_000, apiOutput);
  };

  await startApiServer().catch(async (err: unknown) => {
    await stopChild(apiserver, 15_000);
    await stopChild(etcd, 15_000);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });

  const discovery = new Map<string, Promise<Array<{ name: string; kind: string; namespaced: boolean }>>>();
  const pathOf = async (obj: KubeManifest): Promise<string> => {
    const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    const load = async (): Promise<Array<{ name: string; kind: string; namespaced: boolean }>> => {
      const res = await send<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>('GET', base);
      if (res.status !== 200) throw new Error(`discovery of ${base}: HTTP ${res.status} ${res.text.slice(0, 300)}`);
      return res.body.resources;
    };
    let resources = await (discovery.get(base) ?? load());
    let found = resources.find((r) => r.kind === obj.kind && !r.name.includes('/'));
    if (!found) {
      // A CRD registered since the last look.
      discovery.delete(base);
      resources = await load();
      found = resources.find((r) => r.kind === obj.kind && !r.name.includes('/'));
    }
    discovery.set(base, Promise.resolve(resources));
    if (!found) throw new Error(`the API server serves no ${obj.kind} in ${obj.apiVersion}`);
    const ns = found.namespaced ? `/namespaces/${obj.metadata.namespace ?? 'default'}` : '';
    return `${base}${ns}/${found.name}/${obj.metadata.name}`;
  };

  const server: KubeApiServer = {
    url,
    pathOf,
    apply: async (obj, options = {}) => {
      const query = `fieldManager=kovenant-test&force=true&fieldValidation=Strict${options.dryRun ? '&dryRun=All' : ''}`;
      return send('PATCH', `${await pathOf(obj)}?${query}`, obj, {
        contentType: 'application/apply-patch+yaml',
        ...(options.token ? { token: options.token } : {}),
      });
    },
    ca,
    adminToken,
    request: send,
    must: async <T>(method: string, path: string, body?: unknown, options?: { contentType?: string; token?: string }): Promise<T> => {
      const res = await send<T>(method, path, body, options);
      if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
      return res.body;
    },
    writeKubeconfig: (file, options = {}) => {
      const context = options.context ?? 'test';
      writeFileSync(
        file,
        stringifyYaml({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
          users: [{ name: 'test', user: { token: options.token ?? adminToken } }],
          contexts: [{ name: context, context: { cluster: 'test', user: 'test' } }],
          'current-context': context,
        }),
      );
    },
    compactEtcd: async () => {
      // etcd's v3 JSON gateway: read the current revision, then compact up to it.
      const range = (await (
        await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })
      ).json()) as {
        header: { revision: string };
      };
      const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
        method: 'POST',
        body: JSON.stringify({ revision: range.header.revision, physical: true }),
      });
      if (!res.ok) throw new Error(`etcd compaction: HTTP ${res.status} ${await res.text()}`);
    },
    stopApiServer: () => stopChild(apiserver, 15_000),
    startApiServer,
    close: async () => {
      await stopChild(apiserver, 15_000);
      await stopChild(etcd, 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * API error paths, with nock answering client-node's HTTP requests: 403 (naming the
 * verb and resource), 500 (retried), 410 on a list continuation and on a watch
 * (relist), and a watch stream cut mid-event (resumed from the last complete event).
 * (An unreachable server is tested against the fake API server: nock's replyWithError
 * never settles client-node's node-fetch requests.)
 */
import { PassThrough } from 'node:stream';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeWatchStore } from '../../src/enrich/metadata/kube-watch-store.ts';
import { T0, captureLogger, eventually, pod } from './kube-fixtures.ts';

const SERVER = 'https://kube.nock.test:6443';

let store: KubeWatchStore | undefined;
const openStreams: PassThrough[] = [];

function config(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: SERVER, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

function openStore(): { store: KubeWatchStore; log: ReturnType<typeof captureLogger> } {
  const log = captureLogger();
  store = new KubeWatchStore({
    config: config(),
    logger: log.logger,
    kinds: ['Pod'],
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    now: () => T0,
  }).start();
  return { store, log };
}

const isWatch = (q: Record<string, unknown>): boolean => q.watch === 'true';
const isList = (q: Record<string, unknown>): boolean => !isWatch(q);

function podList(rv: string, items: unknown[], cont?: string): Record<string, unknown> {
  return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) }, items };
}

/** A watch response that stays open (like a quiet watch) until the test ends. */
function quietWatch(): PassThrough {
  const s = new PassThrough();
  openStreams.push(s);
  return s;
}

function forbidden(verb: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message: `pods is forbidden: User "system:serviceaccount:kovenant:kovenant" cannot ${verb} resource "pods" in API group "" at the cluster scope`,
  };
}

beforeEach(() => {
  nock.disableNetConnect();
});

afterEach(async () => {
  await store?.stop();
  store = undefined;
  for (const s of openStreams.splice(0)) s.end();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Kubernetes API error paths (nock)', () => {
  it('a 403 on list names the verb, the resource and the RBAC rule to add, and sends the token', async () => {
    const scope = nock(SERVER, { reqheaders: { authorization: 'Bearer secret-token' } })
      .get('/api/v1/pods')
      .query(isList)
      .times(3)
      .reply(403, forbidden('list'));
    const { store: s, log } = openStore();
    await eventually(() => expect(scope.isDone()).toBe(true));
    const status = s.status();
    expect(status.synced).toBe(false);
    expect(status.lastError).toBe(
      `${SERVER}: forbidden to list pods (pods is forbidden: User "system:serviceaccount:kovenant:kovenant" cannot list resource "pods" in API group "" at the cluster scope); grant verbs [list, watch] on resource "pods" in apiGroup "" to kovenant's ClusterRole; check with: kubectl auth can-i list pods --as system:serviceaccount:NAMESPACE:NAME`,
    );
    const errors = log.lines().filter((l) => l.level === 50);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(log.lines())).not.toContain('secret-token');
  });

  it('a 403 on watch says watch, not list', async () => {
    nock(SERVER).get('/api/v1/pods').query(isList).reply(200, podList('10', []));
    const scope = nock(SERVER).get('/api/v1/pods').query(isWatch).times(2).reply(403, forbidden('watch'));
    const { store: s } = openStore();
    await s.synced;
    await eventually(() => expect(scope.isDone()).toBe(true));
    expect(s.status().lastError).toContain('forbidden to watch pods');
  });

  it('retries 500s with backoff until the list succeeds, then reports the outage over', async () => {
    nock(SERVER)
      .get('/api/v1/pods')
      .query(isList)
      .times(2)
      .reply(500, { kind: 'Status', code: 500, message: 'etcdserver: request timed out' });
    nock(SERVER)
      .get('/api/v1/pods')
      .query(isList)
      .reply(200, podList('10', [pod({ name: 'a', ip: '10.1.0.1' })]));
    nock(SERVER)
      .get('/api/v1/pods')
      .query(isWatch)
      .reply(200, () => quietWatch());
    const { store: s, log } = openStore();
    await s.synced;
    expect(s.pod('shop', 'a')?.ips).toEqual(['10.1.0.1']);
    const warnings = log
      .lines()
      .filter((l) => l.level === 40)
      .map((l) => l.msg);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('list pods: HTTP 500 etcdserver: request timed out');
    await eventually(() => expect(s.status().outageSinceMs).toBeUndefined());
  });

  it('restarts a paginated list from the first page when the continue token expired (410)', async () => {
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isList(q) && !q.continue)
      .reply(200, podList('10', [pod({ name: 'a', ip: '10.1.0.1' })], 'tok-1'));
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => q.continue === 'tok-1')
      .reply(410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue token too old' });
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isList(q) && !q.continue)
      .reply(200, podList('20', [pod({ name: 'a', ip: '10.1.0.1' })], 'tok-2'));
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => q.continue === 'tok-2')
      .reply(200, podList('20', [pod({ name: 'b', ip: '10.1.0.2' })]));
    const watch = nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isWatch(q) && q.resourceVersion === '20')
      .reply(200, () => quietWatch());
    const { store: s } = openStore();
    await s.synced;
    expect(s.status().counts.pods).toBe(2);
    await eventually(() => expect(watch.isDone()).toBe(true));
  });

  it('relists after a watch answered 410 Gone, keeping objects meanwhile', async () => {
    nock(SERVER)
      .get('/api/v1/pods')
      .query(isList)
      .reply(200, podList('10', [pod({ name: 'a', ip: '10.1.0.1' }), pod({ name: 'b', ip: '10.1.0.2' })]));
    nock(SERVER).get('/api/v1/pods').query(isWatch).reply(410, { kind: 'Status', code: 410, reason: 'Expired' });
    nock(SERVER)
      .get('/api/v1/pods')
      .query(isList)
      .reply(200, podList('30', [pod({ name: 'a', ip: '10.1.0.1' })]));
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isWatch(q) && q.resourceVersion === '30')
      .reply(200, () => quietWatch());
    const { store: s } = openStore();
    await s.synced;
    await eventually(() => expect(s.status().resources.pods?.relists).toBe(1));
    expect(s.pod('shop', 'a')?.deletedMs).toBeUndefined();
    expect(s.pod('shop', 'b')?.deletedMs).toBe(T0);
  });

  it('a watch stream cut mid-event keeps the complete events and resumes after the last one', async () => {
    const p = pod({ name: 'c', ip: '10.1.0.3' });
    const complete = JSON.stringify({ type: 'ADDED', object: { ...p, metadata: { ...p.metadata, uid: 'uid-c', resourceVersion: '11' } } });
    nock(SERVER).get('/api/v1/pods').query(isList).reply(200, podList('10', []));
    nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isWatch(q) && q.resourceVersion === '10')
      .reply(200, `${complete}\n{"type":"MODIFIED","object":{"kind":"Pod","metadata":{"na`);
    const resumed = nock(SERVER)
      .get('/api/v1/pods')
      .query((q) => isWatch(q) && q.resourceVersion === '11')
      .reply(200, () => quietWatch());
    const { store: s } = openStore();
    await s.synced;
    await eventually(() => expect(resumed.isDone()).toBe(true));
    expect(s.pod('shop', 'c')?.ips).toEqual(['10.1.0.3']);
    expect(s.status().resources.pods?.relists).toBe(0);
  });
});

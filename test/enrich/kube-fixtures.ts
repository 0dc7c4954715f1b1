/** Kubernetes objects and helpers shared by the kube-* tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { FakeObject } from '../support/fake-kube-api.ts';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface PodSpec {
  ns?: string;
  name: string;
  ip?: string;
  phase?: string;
  node?: string;
  startMs?: number;
  owner?: { kind: string; name: string };
  labels?: Record<string, string>;
  uid?: string;
}

export function pod(p: PodSpec): FakeObject {
  return {
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.ns ?? 'shop',
      ...(p.uid ? { uid: p.uid } : {}),
      creationTimestamp: iso(p.startMs ?? T0),
      ...(p.labels ? { labels: p.labels } : {}),
      ...(p.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: p.owner.kind, name: p.owner.name, uid: `u-${p.owner.name}`, controller: true },
            ],
          }
        : {}),
    },
    spec: { nodeName: p.node ?? 'node-a', containers: [{ name: 'c', image: 'x' }] },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      ...(p.phase === 'Pending' ? {} : { startTime: iso(p.startMs ?? T0) }),
    },
  };
}

export function service(ns: string, name: string, ip: string, release?: string): FakeObject {
  return {
    kind: 'Service',
    metadata: { name, namespace: ns, ...(release ? { annotations: { 'meta.helm.sh/release-name': release } } : {}) },
    spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip] },
  };
}

export function node(name: string, ip: string): FakeObject {
  return {
    kind: 'Node',
    metadata: { name },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
    },
  };
}

export function controller(kind: string, ns: string, name: string, owner?: { kind: string; name: string }, release?: string): FakeObject {
  return {
    kind,
    metadata: {
      name,
      namespace: ns,
      ...(release ? { annotations: { 'meta.helm.sh/release-name': release } } : {}),
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `u-${owner.name}`, controller: true }] }
        : {}),
    },
    spec: {},
  };
}

export interface CapturedLogger {
  logger: Logger;
  lines: () => Array<{ level: number; msg: string; [k: string]: unknown }>;
}

export function captureLogger(): CapturedLogger {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void raw.push(s) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

export { eventually } from '../support/wait.ts';

export function tempDir(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-kube-'));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export { join };

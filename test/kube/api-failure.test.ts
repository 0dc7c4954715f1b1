/**
 * What a refused Kubernetes request says: the same words for the metadata store
 * (cluster-wide, ClusterRole) and the pod-log source (one namespace, Role).
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/input-error.ts';
import { KubeStatusError, describeKubeFailure, httpStatus, kubeAccessError, kubeFailureLine } from '../../src/kube/api-failure.ts';

const SERVER = 'https://10.0.0.1:6443';
const clusterGrant = { role: 'ClusterRole' as const, rules: [{ group: 'apps', resource: 'statefulsets', verbs: ['list', 'watch'] }] };
const logGrant = {
  role: 'Role' as const,
  rules: [
    { group: '', resource: 'pods', verbs: ['list', 'watch'] },
    { group: '', resource: 'pods/log', verbs: ['get'] },
  ],
};
const status = (code: number, message: string): string => JSON.stringify({ kind: 'Status', code, message });

describe('describeKubeFailure', () => {
  it('a 403 names the request, the rule to grant and the kubectl check', () => {
    const f = describeKubeFailure(
      new KubeStatusError(403, status(403, 'statefulsets.apps is forbidden')),
      { server: SERVER, verb: 'list', resource: 'statefulsets', group: 'apps' },
      clusterGrant,
    );
    expect(kubeFailureLine(f)).toBe(
      `${SERVER}: forbidden to list statefulsets.apps (statefulsets.apps is forbidden); grant verbs [list, watch] on resource "statefulsets" in apiGroup "apps" to kovenant's ClusterRole; check with: kubectl auth can-i list statefulsets.apps --as system:serviceaccount:NAMESPACE:NAME`,
    );
  });

  it('in a namespace, the Role and every rule the caller needs', () => {
    const f = describeKubeFailure(
      new KubeStatusError(403, status(403, 'no')),
      { server: SERVER, verb: 'get', resource: 'pods/log', group: '', namespace: 'kube-system' },
      logGrant,
    );
    expect(f.message).toBe(`${SERVER}: forbidden to get pods/log in namespace kube-system (no)`);
    expect(f.hint).toBe(
      `grant verbs [list, watch] on resource "pods" in apiGroup "" and verbs [get] on resource "pods/log" in apiGroup "" to kovenant's Role in namespace kube-system; check with: kubectl auth can-i get pods/log -n kube-system --as system:serviceaccount:NAMESPACE:NAME`,
    );
    const err = kubeAccessError(f);
    expect(err).toBeInstanceOf(InputError);
    expect(err.hint).toBe(f.hint);
  });

  it('401, 404, other statuses and network errors', () => {
    const req = { server: SERVER, verb: 'watch', resource: 'pods', group: '' };
    expect(describeKubeFailure(new KubeStatusError(401, 'Unauthorized'), req, clusterGrant)).toMatchObject({
      status: 401,
      message: `${SERVER}: unauthorized to watch pods (Unauthorized)`,
      hint: expect.stringContaining('check the token or client certificate'),
    });
    expect(
      describeKubeFailure({ code: 404, body: { message: 'the server could not find the requested resource' } }, req, clusterGrant),
    ).toMatchObject({ status: 404, hint: expect.stringContaining('kubectl api-resources') });
    expect(
      kubeFailureLine(describeKubeFailure({ statusCode: 500, body: status(500, 'etcdserver: request timed out') }, req, clusterGrant)),
    ).toBe(`${SERVER}: watch pods: HTTP 500 etcdserver: request timed out`);
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' });
    expect(describeKubeFailure(refused, req, clusterGrant)).toMatchObject({
      status: undefined,
      message: `${SERVER}: watch pods: ECONNREFUSED connect ECONNREFUSED 10.0.0.1:6443`,
      hint: undefined,
    });
  });

  it('reads the status of client-node errors (code), its watch errors (statusCode) and ours', () => {
    expect(httpStatus({ code: 410 })).toBe(410);
    expect(httpStatus({ statusCode: 403 })).toBe(403);
    expect(httpStatus(new KubeStatusError(500, ''))).toBe(500);
    expect(httpStatus(new Error('x'))).toBeUndefined();
  });
});

/**
 * The real kube-apiserver is the judge of what the install applies: the chart as the
 * real Helm renders it (every documented value set), install/manifests/, and the
 * TracingPolicies after Tetragon's own CRD is registered, each sent as
 * `kubectl apply --server-side --dry-run=server` would, with strict field validation.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELEASE, VALUE_SETS, renderObjects } from './support/helm.ts';
import { REFERENCE, filesIn, haveReference } from './support/paths.ts';
import { SCOPES, scopedIoPolicy } from './support/io-policy.ts';
import { haveTools, startKubeApiServer, type KubeApiServer, type KubeManifest } from '../support/kube-apiserver.ts';
import { waitFor } from '../support/wait.ts';

const TOOLS = haveTools('helm', 'kube-apiserver', 'etcd');
const CRDS = ['tracingpolicies.cilium.io.crd.yaml', 'tracingpoliciesnamespaced.cilium.io.crd.yaml'].map((f) =>
  join(REFERENCE, 'tetragon', f),
);
const HAVE_CRDS = haveReference('tetragon/tracingpolicies.cilium.io.crd.yaml', 'tetragon/tracingpoliciesnamespaced.cilium.io.crd.yaml');

function manifests(file: string): KubeManifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return doc.toJS() as KubeManifest;
    })
    .filter((o) => o !== null);
}

let api: KubeApiServer;

/**
 * The reference CRDs were wrapped around Tetragon's JSON schemas and keep JSON Schema's
 * `additionalProperties: false` beside `properties`, which a structural CRD schema
 * forbids (the real API server refuses them so: "additionalProperties and properties
 * are mutual exclusive"); Tetragon's own controller-gen CRDs have none. Dropped here,
 * unknown fields are still refused: the policies go in with strict field validation.
 */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'additionalProperties' && v === false && 'properties' in obj) continue;
    out[k] = structural(v);
  }
  return out;
}

async function expectAccepted(obj: KubeManifest, what: string): Promise<void> {
  const res = await api.apply(obj, { dryRun: true });
  expect(`${what} ${obj.kind}/${obj.metadata.name}: HTTP ${res.status}${res.status >= 300 ? ` ${res.text.slice(0, 600)}` : ''}`).toBe(
    `${what} ${obj.kind}/${obj.metadata.name}: HTTP ${res.status === 201 ? 201 : 200}`,
  );
}

describe.skipIf(!TOOLS)('install manifests against the real kube-apiserver (server-side dry run)', () => {
  beforeAll(async () => {
    api = await startKubeApiServer();
    await api.must('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: RELEASE.namespace } });
  }, 180_000);
  afterAll(async () => api?.close());

  it.each(VALUE_SETS)(
    'accepts every object the chart renders with %s',
    async (name, set) => {
      const objects = renderObjects(set);
      expect(objects.length).toBeGreaterThanOrEqual(7);
      for (const obj of objects) await expectAccepted(obj as KubeManifest, name);
    },
    120_000,
  );

  it('rejects what it should, so the acceptance above means something', async () => {
    const ds = renderObjects().find((o) => o.kind === 'DaemonSet') as KubeManifest & {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    const unknownField = structuredClone(ds);
    unknownField.spec.template.spec.containers[0]!.imagePullPolicy = 'Sometimes';
    const res = await api.apply(unknownField, { dryRun: true });
    expect(res.status).toBe(422);
    expect(res.text).toContain('imagePullPolicy');
    const typo = structuredClone(ds);
    typo.spec.template.spec.containers[0]!.livenesProbe = {};
    const strict = await api.apply(typo, { dryRun: true });
    // Server-side apply answers an undeclared field with a 500 of its own wording.
    expect(strict.status, strict.text).toBeGreaterThanOrEqual(400);
    expect(strict.text).toContain('livenesProbe: field not declared in schema');
  }, 60_000);

  it('accepts install/manifests/', async () => {
    const files = filesIn('install/manifests', '.yaml');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) for (const obj of manifests(file)) await expectAccepted(obj, basename(file));
  }, 60_000);

  describe.skipIf(!HAVE_CRDS)("tracing-policies/ against Tetragon's CRDs", () => {
    beforeAll(async () => {
      for (const file of CRDS)
        for (const crd of manifests(file)) {
          const res = await api.apply(structural(crd) as KubeManifest);
          expect(res.status, res.text.slice(0, 500)).toBeLessThan(300);
        }
      await waitFor(
        'the TracingPolicy CRDs to be established',
        async () => {
          for (const file of CRDS)
            for (const crd of manifests(file)) {
              const got = await api.must<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
                'GET',
                `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
              );
              if (!got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return false;
            }
          return true;
        },
        60_000,
        200,
      );
    }, 120_000);

    it.each(filesIn('tracing-policies', '.yaml').map((f) => [basename(f), f]))(
      'accepts %s',
      async (name, file) => {
        const policies = manifests(file);
        expect(policies.length).toBeGreaterThan(0);
        for (const p of policies) await expectAccepted(p, name);
      },
      60_000,
    );

    it.each(SCOPES.map((s) => [s.name, s] as const))(
      'accepts kovenant-io as install.sh scopes it with %s',
      async (name, scope) => {
        const r = scopedIoPolicy(scope.include, scope.exclude);
        expect(r.status, r.stderr).toBe(0);
        const [policy] = parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeManifest & { spec: { podSelector?: unknown } });
        expect(policy!.spec.podSelector).toBeDefined();
        await expectAccepted(policy!, name);
        // The selector is checked, not passed through: a wrong operator is refused.
        const bad = structuredClone(policy!) as KubeManifest & { spec: { podSelector: { matchExpressions: Array<{ operator: string }> } } };
        bad.spec.podSelector.matchExpressions[0]!.operator = 'Within';
        const res = await api.apply(bad, { dryRun: true });
        expect(res.status, res.text).toBeGreaterThanOrEqual(400);
        expect(res.text).toMatch(/podSelector.*operator/);
      },
      60_000,
    );

    it("rejects a policy its schema does not allow (the CRD's structural schema is the judge)", async () => {
      const [policy] = manifests(filesIn('tracing-policies', '.yaml')[0]!) as Array<
        KubeManifest & { spec: { kprobes: Array<Record<string, unknown>> } }
      >;
      const bad = structuredClone(policy!);
      bad.spec.kprobes[0]!.args = [{ index: 'first', type: 'sock' }];
      const res = await api.apply(bad, { dryRun: true });
      expect(res.status, res.text).toBeGreaterThanOrEqual(400);
      expect(res.text).toMatch(/args.*index/);
      const unknown = structuredClone(policy!);
      unknown.spec.kprobes[0]!.retrunArg = true;
      const strict = await api.apply(unknown, { dryRun: true });
      expect(strict.status, strict.text).toBeGreaterThanOrEqual(400);
      expect(strict.text).toContain('retrunArg');
    }, 60_000);
  });
});

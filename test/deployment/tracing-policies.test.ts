/**
 * Every TracingPolicy validates against Tetragon's CRD schema (as the API
 * server would) and asks for exactly what kovenant's decoder reads.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REFERENCE, filesIn, haveReference } from './support/paths.ts';
import { IO_POLICY_FILE, SCOPES, scopedIoPolicy } from './support/io-policy.ts';

interface KprobeArg {
  index: number;
  type: string;
}
interface Kprobe {
  call: string;
  syscall?: boolean;
  return?: boolean;
  args?: KprobeArg[];
  returnArg?: KprobeArg;
  selectors?: Array<{
    matchBinaries?: Array<{ operator: string; values: string[] }>;
    matchReturnArgs?: Array<{ index: number; operator: string; values: string[] }>;
  }>;
}
interface TracingPolicy {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { kprobes?: Kprobe[]; podSelector?: unknown };
}

function schemaValidator(file: string): ValidateFunction {
  const ajv = new Ajv({ allErrors: true });
  // Kubernetes' OpenAPI extensions carry no constraint JSON Schema can check
  // (x-kubernetes-validations are CEL rules run by the API server).
  ajv.addVocabulary([
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-map-keys',
  ]);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv.compile(JSON.parse(readFileSync(join(REFERENCE, 'tetragon', file), 'utf8')) as object);
}

const SCHEMAS = haveReference('tetragon/tracingpolicy-cilium.io.schema.json', 'tetragon/tracingpolicynamespaced-cilium.io.schema.json');
const clusterScoped = SCHEMAS ? schemaValidator('tracingpolicy-cilium.io.schema.json') : undefined;
const namespaced = SCHEMAS ? schemaValidator('tracingpolicynamespaced-cilium.io.schema.json') : undefined;

const policies: Array<{ file: string; policy: TracingPolicy }> = filesIn('tracing-policies', '.yaml').flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    expect(doc.errors).toEqual([]);
    return { file: basename(file), policy: doc.toJS() as TracingPolicy };
  }),
);
const kprobes = new Map<string, Kprobe>(policies.flatMap(({ policy }) => (policy.spec.kprobes ?? []).map((k) => [k.call, k] as const)));

describe('tracing-policies/', () => {
  it('has policies', () => {
    expect(policies.length).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(!SCHEMAS).each(policies.map((p) => [p.file, p.policy] as const))('%s validates against the CRD schema', (_file, policy) => {
    expect(policy.apiVersion).toBe('cilium.io/v1alpha1');
    expect(['TracingPolicy', 'TracingPolicyNamespaced']).toContain(policy.kind);
    const validate = (policy.kind === 'TracingPolicy' ? clusterScoped : namespaced)!;
    const ok = validate(policy);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  describe('kovenant-io scoped to namespaces by install/.env (install/io-policy-scope.bash)', () => {
    const io = () => policies.find((p) => p.policy.metadata.name === 'kovenant-io')!.policy;

    it.skipIf(!SCHEMAS).each(SCOPES.map((s) => [s.name, s] as const))(
      '%s: the policy install.sh applies validates against the CRD schema',
      (_name, scope) => {
        const r = scopedIoPolicy(scope.include, scope.exclude);
        expect(r.status, r.stderr).toBe(0);
        const docs = parseAllDocuments(r.stdout);
        expect(docs).toHaveLength(1);
        expect(docs[0]!.errors).toEqual([]);
        const scoped = docs[0]!.toJS() as TracingPolicy;
        expect(scoped.spec.podSelector).toEqual({
          matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: scope.operator, values: scope.values }],
        });
        // Only the selector is added: the hooks and their exclusions are the file's.
        const { podSelector: _selector, ...spec } = scoped.spec;
        expect({ ...scoped, spec }).toEqual(io());
        const ok = clusterScoped!(scoped);
        expect(clusterScoped!.errors ?? []).toEqual([]);
        expect(ok).toBe(true);
      },
    );

    it('with neither setting, it is the file unchanged (node-wide)', () => {
      for (const [include, exclude] of [
        ['', ''],
        [' , ', ','],
      ]) {
        const r = scopedIoPolicy(include!, exclude!);
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toBe(readFileSync(IO_POLICY_FILE, 'utf8'));
      }
    });
  });

  it('policy names are unique DNS labels', () => {
    const names = policies.map((p) => p.policy.metadata.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('hooks exactly the functions kovenant decodes, each once', () => {
    const calls = policies.flatMap(({ policy }) => (policy.spec.kprobes ?? []).map((k) => k.call)).sort();
    expect(calls).toEqual(['sys_read', 'sys_write', 'tcp_close', 'tcp_connect', 'tcp_recvmsg', 'tcp_sendmsg']);
  });

  it.each(['tcp_connect', 'tcp_close', 'tcp_sendmsg', 'tcp_recvmsg'])('%s is a kernel function with the sock at args[0]', (call) => {
    const k = kprobes.get(call)!;
    // The CRD defaults `syscall` to true, which would make Tetragon look for __x64_tcp_*.
    expect(k.syscall).toBe(false);
    expect(k.args?.[0]).toEqual({ index: 0, type: 'sock' });
  });

  it.each(['tcp_sendmsg', 'tcp_recvmsg', 'sys_read', 'sys_write'])('%s exports the size argument and the return value', (call) => {
    const k = kprobes.get(call)!;
    expect(k.args?.some((a) => a.type === 'size_t' && a.index === 2)).toBe(true);
    // The decoder reads `return.int_arg`: the type must be int, at index 0.
    expect(k.return).toBe(true);
    expect(k.returnArg).toEqual({ index: 0, type: 'int' });
  });

  it.each(['sys_read', 'sys_write'])('%s uses the portable syscall name', (call) => {
    const k = kprobes.get(call)!;
    expect(k.syscall).toBe(true);
    expect(k.call).not.toMatch(/^__(x64|arm64|ia32)_/);
  });

  it("excludes Tetragon's and kovenant's own processes on every hook, in the kernel", () => {
    for (const k of kprobes.values()) {
      expect(k.selectors?.length, k.call).toBeGreaterThan(0);
      // Selectors are ORed: every selector must carry the exclusion, or one without it lets Tetragon through.
      for (const s of k.selectors ?? []) {
        // kovenant's image runs the agent through this hard link of node (Dockerfile).
        expect(s.matchBinaries, k.call).toEqual([
          { operator: 'NotIn', values: expect.arrayContaining(['/usr/bin/tetragon', '/opt/kovenant/bin/kovenant-node']) as string[] },
        ]);
      }
    }
  });

  it.each(['tcp_sendmsg', 'tcp_recvmsg', 'sys_read', 'sys_write'])(
    '%s drops calls that moved no bytes in the kernel (return value > 0)',
    (call) => {
      for (const s of kprobes.get(call)!.selectors ?? [])
        expect(s.matchReturnArgs, call).toEqual([{ index: 0, operator: 'GT', values: ['0'] }]);
    },
  );

  it.each(['tcp_connect', 'tcp_close'])('%s has no return filter (no return value is exported)', (call) => {
    for (const s of kprobes.get(call)!.selectors ?? []) expect(s.matchReturnArgs, call).toBeUndefined();
  });
});

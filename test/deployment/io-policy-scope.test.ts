/**
 * IO_POLICY_NAMESPACES and IO_POLICY_EXCLUDE_NAMESPACES of install/.env: the errors of
 * install/io-policy-scope.bash for bad settings, and install.sh applying the scoped
 * kovenant-io (run for real, in a scratch copy of the repository, against stub
 * kubectl/helm/helmfile that record what they are asked). The scoped policy itself is
 * validated against the CRD schema in tracing-policies.test.ts and by the real
 * kube-apiserver in apiserver-validation.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/paths.ts';
import { SCOPES, scopedIoPolicy } from './support/io-policy.ts';
import { requireBinary } from '../support/servers.ts';

const YAMLLINT = '/usr/bin/yamllint';

const tmp = mkdtempSync(join(tmpdir(), 'kovenant-io-scope-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const oneLineError = (stderr: string): string => {
  expect(stderr.endsWith('\n')).toBe(true);
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  return lines[0]!;
};

describe('io_policy_manifest refuses bad settings with one line naming them', () => {
  it('both settings given', () => {
    const r = scopedIoPolicy('payments', 'kube-system');
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    const line = oneLineError(r.stderr);
    expect(line).toContain('IO_POLICY_NAMESPACES');
    expect(line).toContain('IO_POLICY_EXCLUDE_NAMESPACES');
    expect(line).toContain('install/.env');
  });

  it.each([
    ['IO_POLICY_NAMESPACES', 'payments,Checkout', 'Checkout'],
    ['IO_POLICY_NAMESPACES', 'pay_ments', 'pay_ments'],
    ['IO_POLICY_NAMESPACES', 'payments checkout', 'payments checkout'],
    ['IO_POLICY_EXCLUDE_NAMESPACES', 'kube-system,-x', '-x'],
    ['IO_POLICY_EXCLUDE_NAMESPACES', 'x-', 'x-'],
    ['IO_POLICY_EXCLUDE_NAMESPACES', 'a.b', 'a.b'],
    ['IO_POLICY_EXCLUDE_NAMESPACES', `ok,${'a'.repeat(64)}`, 'a'.repeat(64)],
    ['IO_POLICY_EXCLUDE_NAMESPACES', '"payments"', '"payments"'],
  ])('%s=%s: not a namespace name', (key, value, bad) => {
    const r = key === 'IO_POLICY_NAMESPACES' ? scopedIoPolicy(value, '') : scopedIoPolicy('', value);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    const line = oneLineError(r.stderr);
    expect(line).toContain(`${key} in install/.env: '${bad}' is not a namespace name`);
  });

  it('accepts the longest namespace name (63 characters)', () => {
    const r = scopedIoPolicy(`${'a'.repeat(62)}z`, '');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`- "${'a'.repeat(62)}z"`);
  });

  it('a policy file that already has a podSelector, or no spec line, is an error naming the file', () => {
    const withSelector = join(tmp, 'with-selector.yaml');
    writeFileSync(withSelector, 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nspec:\n  podSelector: {}\n  kprobes: []\n');
    let r = scopedIoPolicy('payments', '', withSelector);
    expect(r.status).not.toBe(0);
    expect(oneLineError(r.stderr)).toContain(`${withSelector} already has a spec.podSelector; remove it, or remove IO_POLICY_NAMESPACES`);
    const noSpec = join(tmp, 'no-spec.yaml');
    writeFileSync(noSpec, 'apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nspec: {kprobes: []}\n');
    r = scopedIoPolicy('payments', '', noSpec);
    expect(r.status).not.toBe(0);
    expect(oneLineError(r.stderr)).toContain(`${noSpec}: expected one top-level 'spec:' line to scope, found 0`);
  });
});

describe.skipIf(!requireBinary(YAMLLINT))('the scoped policy is YAML as clean as the files', () => {
  it.each(SCOPES.map((s) => [s.name, s] as const))('%s passes yamllint --strict', (name, scope) => {
    const r = scopedIoPolicy(scope.include, scope.exclude);
    expect(r.status, r.stderr).toBe(0);
    const file = join(tmp, `${name}.yaml`);
    writeFileSync(file, r.stdout);
    const lint = spawnSync(YAMLLINT, ['--strict', '-c', join(ROOT, '.yamllint.yaml'), file], { encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });
});

/**
 * A scratch copy of what install.sh reads, with stub tools: kubectl logs its arguments
 * and keeps what it is given on stdin, and answers success to everything.
 */
function runInstall(env: string): { status: number | null; stderr: string; calls: string[]; stdin: string } {
  const root = mkdtempSync(join(tmp, 'install-'));
  mkdirSync(join(root, 'install'));
  mkdirSync(join(root, 'bin'));
  for (const f of ['install.sh', 'cluster-access.bash', 'io-policy-scope.bash', 'example.env'])
    copyFileSync(join(ROOT, 'install', f), join(root, 'install', f));
  cpSync(join(ROOT, 'install/manifests'), join(root, 'install/manifests'), { recursive: true });
  cpSync(join(ROOT, 'tracing-policies'), join(root, 'tracing-policies'), { recursive: true });
  writeFileSync(join(root, 'install/.env'), `KUBE_CONTEXT=test\n${env}`, { mode: 0o600 });
  const bin = join(root, 'bin');
  const stub = (name: string, body: string): void => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub(
    'kubectl',
    `echo "$*" >> "${bin}/kubectl.log"\ncase " $* " in *" -f - "*) cat >> "${bin}/kubectl.stdin"; echo --- >> "${bin}/kubectl.stdin";; esac\nexit 0`,
  );
  stub('helm', 'echo "NAME VERSION"; echo "diff 3.9.0"');
  stub('helmfile', `echo "helmfile $*" >> "${bin}/kubectl.log"`);
  const r = spawnSync('/bin/bash', [join(root, 'install/install.sh')], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin` },
    timeout: 60_000,
  });
  const read = (f: string): string => (existsSync(join(bin, f)) ? readFileSync(join(bin, f), 'utf8') : '');
  return {
    status: r.status,
    stderr: r.stderr.replaceAll(root, '<root>'),
    calls: read('kubectl.log').replaceAll(root, '<root>').split('\n').filter(Boolean),
    stdin: read('kubectl.stdin'),
  };
}

function appliedIoPolicy(stdin: string): unknown[] {
  return parseAllDocuments(stdin)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((o) => o?.kind === 'TracingPolicy' && o.metadata?.name === 'kovenant-io');
}

describe('install.sh applies kovenant-io with the scope of install/.env', () => {
  it.each(SCOPES.map((s) => [s.name, s] as const))(
    '%s',
    (name, scope) => {
      const value = scope.include || scope.exclude;
      const r = runInstall(`${name}=${value}\n`);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        `==> ${name}: kovenant-io traces ${scope.operator === 'In' ? 'only' : 'every namespace but'} ${scope.values.join(' ')}`,
      );
      // The TCP policy as its file, the I/O policy through stdin, scoped; never the directory.
      expect(r.calls).toContain('--context test apply -f <root>/tracing-policies/kovenant-tcp.yaml');
      expect(r.calls).toContain('--context test apply -f -');
      expect(r.calls.filter((c) => c.includes('tracing-policies/kovenant-io.yaml') || c.endsWith('tracing-policies/'))).toEqual([]);
      expect(appliedIoPolicy(r.stdin)).toEqual([parseAllDocuments(scopedIoPolicy(scope.include, scope.exclude).stdout)[0]!.toJS()]);
      // Policies go in after helmfile installed Tetragon (and its CRD).
      expect(r.calls.findIndex((c) => c.startsWith('helmfile'))).toBeLessThan(
        r.calls.findIndex((c) => c.includes('tracing-policies/kovenant-tcp.yaml')),
      );
    },
    90_000,
  );

  it('neither setting (the example.env as shipped): the file as it is, node-wide', () => {
    const r = runInstall(readFileSync(join(ROOT, 'install/example.env'), 'utf8'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('kovenant-io traces');
    expect(appliedIoPolicy(r.stdin)).toEqual([
      parseAllDocuments(readFileSync(join(ROOT, 'tracing-policies/kovenant-io.yaml'), 'utf8'))[0]!.toJS(),
    ]);
  }, 90_000);

  it.each([
    [
      'both settings',
      'IO_POLICY_NAMESPACES=payments\nIO_POLICY_EXCLUDE_NAMESPACES=kube-system\n',
      'sets both IO_POLICY_NAMESPACES and IO_POLICY_EXCLUDE_NAMESPACES',
    ],
    [
      'a bad name',
      'IO_POLICY_EXCLUDE_NAMESPACES="kube_system"\n',
      "IO_POLICY_EXCLUDE_NAMESPACES in install/.env: 'kube_system' is not a namespace name",
    ],
  ])(
    '%s: stops with one line before touching the cluster',
    (_what, env, message) => {
      const r = runInstall(env);
      expect(r.status).not.toBe(0);
      expect(oneLineError(r.stderr)).toContain(message);
      expect(r.calls).toEqual([]);
    },
    90_000,
  );
});

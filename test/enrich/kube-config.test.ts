/** Finding the cluster: --kubeconfig, KUBECONFIG, --context, and errors that say what to fix. */
import { runCli } from '../support/cli.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/input-error.ts';
import { loadKubeConfig } from '../../src/enrich/metadata/kube-config.ts';
import { join, tempDir } from './kube-fixtures.ts';

let tmp: ReturnType<typeof tempDir>;

function kubeconfig(file: string, contexts: Record<string, string>, current: string, user = 'u'): string {
  const path = join(tmp.dir, file);
  const names = Object.keys(contexts);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...names.map((n) => `- name: ${n}\n  cluster: {server: "${contexts[n]}"}`),
      'users:',
      `- name: ${user}\n  user: {token: t}`,
      'contexts:',
      ...names.map((n) => `- name: ${n}\n  context: {cluster: ${n}, user: ${user}}`),
      `current-context: ${current}`,
      '',
    ].join('\n'),
  );
  return path;
}

beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.dispose());

describe('loadKubeConfig', () => {
  it('uses --kubeconfig and its current context, or the one --context names', () => {
    const file = kubeconfig('a.yaml', { dev: 'https://dev.example:6443', prod: 'https://prod.example:6443' }, 'dev');
    expect(loadKubeConfig({ kubeconfig: file }, {})).toMatchObject({ source: file, server: 'https://dev.example:6443' });
    expect(loadKubeConfig({ kubeconfig: file, context: 'prod' }, {}).server).toBe('https://prod.example:6443');
  });

  it('falls back to KUBECONFIG when no --kubeconfig is given', () => {
    const file = kubeconfig('b.yaml', { ci: 'https://ci.example:6443' }, 'ci');
    // Only the env passed in: process.env.KUBECONFIG is left alone and must not matter.
    expect(loadKubeConfig({}, { KUBECONFIG: file })).toMatchObject({ source: `KUBECONFIG=${file}`, server: 'https://ci.example:6443' });
  });

  it('merges every file KUBECONFIG lists, as client-node does', () => {
    const first = kubeconfig('d.yaml', { dev: 'https://dev.example:6443' }, 'dev');
    // client-node refuses names that repeat across files, so the second has its own user.
    const second = kubeconfig('e.yaml', { prod: 'https://prod.example:6443' }, 'prod', 'u2');
    const env = { KUBECONFIG: [first, '', second].join(delimiter) };
    // The later file's current-context wins, and --context reaches the earlier file's.
    expect(loadKubeConfig({}, env).server).toBe('https://prod.example:6443');
    expect(loadKubeConfig({ context: 'dev' }, env).server).toBe('https://dev.example:6443');
  });

  it('an unknown --context lists the ones that exist', () => {
    const file = kubeconfig('c.yaml', { dev: 'https://dev.example:6443', prod: 'https://prod.example:6443' }, 'dev');
    const err = (() => {
      try {
        loadKubeConfig({ kubeconfig: file, context: 'staging' }, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).toLine()).toBe(`kovenant: ${file}: no context "staging" (--context must be one of: dev, prod)`);
  });

  it('a missing or malformed kubeconfig names the file', () => {
    expect(() => loadKubeConfig({ kubeconfig: join(tmp.dir, 'none.yaml') }, {})).toThrow(/none\.yaml: no such file/);
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [: nope');
    expect(() => loadKubeConfig({ kubeconfig: bad }, {})).toThrow(/bad\.yaml: not a valid kubeconfig/);
  });

  it('refuses a plain-http server without insecure-skip-tls-verify at once, saying what to set (kubectl proxy)', () => {
    const file = kubeconfig('proxy.yaml', { proxy: 'http://127.0.0.1:8001' }, 'proxy');
    let err: unknown;
    try {
      loadKubeConfig({ kubeconfig: file }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).toLine()).toBe(
      `kovenant: ${file}: cluster "proxy" has a plain-http server (http://127.0.0.1:8001), which the Kubernetes client refuses without insecure-skip-tls-verify` +
        ' (set "insecure-skip-tls-verify: true" on cluster "proxy" (as kubectl proxy needs) or use the API server\'s https address)',
    );
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '{server: "http://127.0.0.1:8001"}',
        '{server: "http://127.0.0.1:8001", insecure-skip-tls-verify: true}',
      ),
    );
    expect(loadKubeConfig({ kubeconfig: file }, {}).server).toBe('http://127.0.0.1:8001');
  });

  it('kovenant run with a plain-http kubeconfig exits 2 at once instead of retrying', async () => {
    const file = kubeconfig('proxy-run.yaml', { proxy: 'http://127.0.0.1:8001' }, 'proxy');
    const started = Date.now();
    const r = await runCli(['run', '--events', '-', '--kubeconfig', file, '--metrics-addr', 'off', '--output', 'line'], {
      env: { KUBECONFIG: '' },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('has a plain-http server (http://127.0.0.1:8001)');
    expect(r.stderr).toContain('set "insecure-skip-tls-verify: true" on cluster "proxy"');
    // Nothing listens on :8001; a retrying daemon would still be running at the timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});

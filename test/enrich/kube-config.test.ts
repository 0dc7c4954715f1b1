/** Finding the cluster: --kubeconfig, KUBECONFIG, --context, and errors that say what to fix. */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/cli/input-error.ts';
import { loadKubeConfig } from '../../src/enrich/metadata/kube-config.ts';
import { join, tempDir } from './kube-fixtures.ts';

let tmp: ReturnType<typeof tempDir>;

function kubeconfig(file: string, contexts: Record<string, string>, current: string): string {
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
      '- name: u\n  user: {token: t}',
      'contexts:',
      ...names.map((n) => `- name: ${n}\n  context: {cluster: ${n}, user: u}`),
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
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = file;
    try {
      expect(loadKubeConfig({}, { KUBECONFIG: file })).toMatchObject({ source: `KUBECONFIG=${file}`, server: 'https://ci.example:6443' });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
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
});

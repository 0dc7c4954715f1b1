/**
 * The real Helm (built into .tools/bin by `npm run tools`): `helm template` and
 * `helm lint --strict` of kovenant's chart, with values given as files the way
 * helmfile passes them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { tool } from '../../support/kube-apiserver.ts';
import { CHART_DIR, ROOT, filesIn } from './paths.ts';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const RELEASE = { name: 'kovenant', namespace: 'kovenant' };

/** The Kubernetes release the tests' kube-apiserver is built from (test/cluster/go.mod). */
export const KUBE_VERSION = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(readFileSync(join(ROOT, 'test/cluster/go.mod'), 'utf8'))![1]!;

/** What a toggle test renders: value files (relative to the repository) and overrides. */
export interface ValueSet {
  files?: string[];
  values?: { [key: string]: Json };
}

function helm(args: string[]): { status: number | null; output: string; stdout: string } {
  const r = spawnSync(tool('helm'), args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // No repository cache or config of the user's leaks in.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(tmpdir(), 'kovenant-helm-cache'),
      HELM_CONFIG_HOME: join(tmpdir(), 'kovenant-helm-config'),
      HELM_DATA_HOME: join(tmpdir(), 'kovenant-helm-data'),
    },
  });
  return { status: r.status, stdout: r.stdout, output: `${r.stdout}${r.stderr}` };
}

function valueArgs(set: ValueSet, dir: string): string[] {
  const args = (set.files ?? []).flatMap((f) => ['-f', join(ROOT, f)]);
  if (set.values) {
    const file = join(dir, 'overrides.yaml');
    writeFileSync(file, stringifyYaml(set.values));
    args.push('-f', file);
  }
  return args;
}

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-helm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` output, split into its `# Source:` documents; throws with Helm's message on failure. */
export function helmTemplate(set: ValueSet = {}): Array<{ source: string; text: string }> {
  const r = withTemp((dir) =>
    helm(['template', RELEASE.name, CHART_DIR, '--namespace', RELEASE.namespace, '--kube-version', KUBE_VERSION, ...valueArgs(set, dir)]),
  );
  if (r.status !== 0) throw new Error(`helm template failed: ${r.output}`);
  return r.stdout
    .split(/^---\n/m)
    .map((text) => ({ source: /^# Source: (.+)$/m.exec(text)?.[1] ?? '', text }))
    .filter((d) => d.text.trim() !== '');
}

export function renderObjects(set: ValueSet = {}): K8sObject[] {
  return helmTemplate(set)
    .flatMap(({ source, text }) =>
      parseAllDocuments(text).map((doc) => {
        if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as K8sObject;
      }),
    )
    .filter((o) => o !== null);
}

/** `helm lint --strict`: exit status and everything it printed. */
export function helmLint(set: ValueSet = {}): { status: number | null; output: string } {
  return withTemp((dir) =>
    helm(['lint', '--strict', CHART_DIR, '--namespace', RELEASE.namespace, '--kube-version', KUBE_VERSION, ...valueArgs(set, dir)]),
  );
}

/** What helmfile.yaml passes for the dashboards (`set: file:`), as a values file would. */
export function dashboardValues(): { [key: string]: Json } {
  const dashboards: { [key: string]: Json } = {};
  for (const file of filesIn('dashboards', '.json')) dashboards[file.split('/').pop()!] = readFileSync(file, 'utf8');
  return { grafana: { dashboards } };
}

/** The chart's own values.yaml, as Helm starts from it. */
export function defaultValues(): { [key: string]: Json } {
  return parseYaml(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as { [key: string]: Json };
}

/**
 * Every value set the README and values.yaml document: the defaults, what helmfile
 * installs, and each toggle. The tests lint and render each, and apply each to the API
 * server with a server-side dry run.
 */
export const VALUE_SETS: ReadonlyArray<readonly [string, ValueSet]> = [
  ['default values', {}],
  ['install/values/kovenant.yaml', { files: ['install/values/kovenant.yaml'] }],
  [
    'install/values/kovenant.yaml and the dashboards helmfile passes',
    { files: ['install/values/kovenant.yaml'], values: dashboardValues() },
  ],
  ['conntrack accounting off', { values: { conntrack: { enableAccounting: false } } }],
  ['events from k8s-logs', { values: { config: { events: 'k8s-logs' } } }],
  ['a cluster name', { values: { config: { clusterName: 'prod-eu' } } }],
  ['dnstap listen', { values: { dnstap: { listen: { enabled: true } } } }],
  ['dnstap connect', { values: { dnstap: { connect: { enabled: true } } } }],
];

/**
 * Static checks of the deployment files: shellcheck on the scripts, yamllint
 * on every YAML file (Helm templates after rendering them with the real Helm,
 * since `{{ }}` is not YAML), and the cross-file references helmfile.yaml
 * relies on, since helmfile itself cannot run here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultValues, helmTemplate } from './support/helm.ts';
import { haveTools } from '../support/kube-apiserver.ts';
import { CHART_DIR, ROOT, filesIn } from './support/paths.ts';
import { requireBinary } from '../support/servers.ts';

const SHELLCHECK = '/usr/bin/shellcheck';
const YAMLLINT = '/usr/bin/yamllint';

interface Helmfile {
  repositories: Array<{ name: string; url: string }>;
  releases: Array<{
    name: string;
    namespace: string;
    chart: string;
    version?: string;
    values?: string[];
    needs?: string[];
    set?: Array<{ name: string; file?: string }>;
    hooks?: unknown[];
  }>;
}

const helmfile = parseYaml(readFileSync(join(ROOT, 'helmfile.yaml'), 'utf8')) as Helmfile;
const yamlFiles = [
  join(ROOT, 'helmfile.yaml'),
  join(ROOT, '.yamllint.yaml'),
  ...filesIn('tracing-policies', '.yaml'),
  ...filesIn('install/values', '.yaml'),
  ...filesIn('install/manifests', '.yaml'),
  join(CHART_DIR, 'Chart.yaml'),
  join(CHART_DIR, 'values.yaml'),
];
const tmp = mkdtempSync(join(tmpdir(), 'kovenant-lint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(bin: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!requireBinary(SHELLCHECK))('install scripts', () => {
  const scripts = filesIn('install', '.sh');

  it('install.sh and uninstall.sh exist and are executable', () => {
    expect(scripts.map((s) => relative(ROOT, s))).toEqual(['install/install.sh', 'install/uninstall.sh']);
    for (const s of scripts) execFileSync('test', ['-x', s]);
  });

  it.each([...scripts, ...filesIn('install', '.bash')].map((s) => [relative(ROOT, s)]))('%s passes shellcheck', (script) => {
    const r = run(SHELLCHECK, ['--external-sources', '--severity=style', script]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(scripts.map((s) => [relative(ROOT, s)]))('%s runs with set -euo pipefail and answers --help offline', (script) => {
    expect(readFileSync(join(ROOT, script), 'utf8')).toMatch(/^#!\/usr\/bin\/env bash\n(#.*\n)*set -euo pipefail$/m);
    const r = run('bash', [script, '--help']);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/^Usage: install\//);
  });

  it.each(scripts.map((s) => [relative(ROOT, s)]))('%s rejects an unknown argument with its usage', (script) => {
    const r = run('bash', [script, '--bogus']);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("unknown argument '--bogus'");
  });

  it.each(['install.sh', 'uninstall.sh'])('%s reads KUBE_CONTEXT from install/.env, quoted or not', (script) => {
    // Copies of the scripts in a scratch tree (their ROOT is where they lie), with stub
    // tools that answer what the preflight asks and refuse to reach a cluster.
    const root = mkdtempSync(join(tmp, 'ctx-'));
    mkdirSync(join(root, 'install'));
    mkdirSync(join(root, 'bin'));
    for (const f of ['install.sh', 'uninstall.sh', 'cluster-access.bash', 'io-policy-scope.bash', 'example.env'])
      copyFileSync(join(ROOT, 'install', f), join(root, 'install', f));
    // install.sh scopes the I/O policy (install/.env's IO_POLICY_*) before it reaches the cluster.
    cpSync(join(ROOT, 'tracing-policies'), join(root, 'tracing-policies'), { recursive: true });
    writeFileSync(join(root, 'install/.env'), 'KUBE_CONTEXT="prod-eu"\n');
    const stub = (name: string, body: string): void => writeFileSync(join(root, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub('kubectl', 'echo "$@" >> "$(dirname "$0")/kubectl.log"; exit 1');
    stub('helm', 'echo "NAME VERSION"; echo "diff 3.9.0"');
    stub('helmfile', 'exit 0');
    const r = spawnSync('/bin/bash', [join(root, 'install', script)], {
      encoding: 'utf8',
      env: { PATH: `${join(root, 'bin')}:/usr/bin:/bin` },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the cluster of context 'prod-eu' is not reachable");
    expect(readFileSync(join(root, 'bin/kubectl.log'), 'utf8')).toContain('--context prod-eu get --raw /readyz');
  });

  it('stops at the first missing tool and says how to install it', () => {
    // PATH without kubectl/helm/helmfile: only what bash needs to start.
    const r = spawnSync('/bin/bash', [join(ROOT, 'install/install.sh')], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/kubectl not found\. Install it: https:\/\//);
  });
});

describe('install/example.env and install/.env', () => {
  const example = readFileSync(join(ROOT, 'install/example.env'), 'utf8');

  it('the example declares every setting and commits no secret', () => {
    const settings = Object.fromEntries(
      example
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(settings).sort()).toEqual(
      [
        'GRAFANA_ADMIN_PASSWORD',
        'GRAFANA_ADMIN_USER',
        'INFLUXDB_ADMIN_PASSWORD',
        'INFLUXDB_TOKEN',
        'IO_POLICY_EXCLUDE_NAMESPACES',
        'IO_POLICY_NAMESPACES',
        'KUBE_CONTEXT',
      ].sort(),
    );
    for (const key of ['GRAFANA_ADMIN_PASSWORD', 'INFLUXDB_ADMIN_PASSWORD', 'INFLUXDB_TOKEN']) expect(settings[key], key).toBe('');
  });

  it('install/.env is git-ignored', () => {
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('install/.env');
  });

  it('no committed deployment file carries a password or token value', () => {
    for (const f of [...yamlFiles, ...filesIn('install', '.sh')]) {
      expect(readFileSync(f, 'utf8'), relative(ROOT, f)).not.toMatch(
        /^\s*(password|token|adminPassword|admin-password|admin-token)\s*:\s*\S+/im,
      );
    }
  });
});

describe.skipIf(!requireBinary(YAMLLINT))('yamllint', () => {
  it('passes on every YAML file', () => {
    const r = run(YAMLLINT, ['--strict', '-c', join(ROOT, '.yamllint.yaml'), ...yamlFiles.map((f) => relative(ROOT, f))]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!haveTools('helm'))('passes on the chart templates rendered with default values', () => {
    const rendered = new Map(helmTemplate().map((d) => [d.source, d.text.replace(/^# Source: .*\n/m, '')]));
    const files: string[] = [];
    for (const [name, text] of rendered) {
      const out = join(tmp, name.replace(/\//g, '_'));
      writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`);
      files.push(out);
    }
    const r = run(YAMLLINT, ['--strict', '-c', join(ROOT, '.yamllint.yaml'), ...files]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('helmfile.yaml', () => {
  const byName = new Map(helmfile.releases.map((r) => [r.name, r]));

  it('installs the five releases from their upstream charts, versions pinned', () => {
    expect([...byName.keys()].sort()).toEqual(['grafana', 'influxdb', 'kovenant', 'prometheus', 'tetragon']);
    expect(byName.get('tetragon')!.chart).toBe('cilium/tetragon');
    expect(byName.get('prometheus')!.chart).toBe('prometheus-community/prometheus');
    expect(byName.get('grafana')!.chart).toBe('grafana-community/grafana');
    expect(helmfile.repositories.find((r) => r.name === 'grafana-community')?.url).toBe('https://grafana-community.github.io/helm-charts');
    expect(byName.get('influxdb')!.chart).toBe('influxdata/influxdb2');
    expect(byName.get('kovenant')!.chart).toBe('./install/chart/kovenant');
    const repos = new Set(helmfile.repositories.map((r) => r.name));
    for (const r of helmfile.releases) {
      if (r.chart.startsWith('./')) continue;
      expect(repos, r.chart).toContain(r.chart.split('/')[0]);
      expect(r.version, `${r.name} must pin a chart version`).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('runs no hooks: helmfile gives them no kube context, so kubectl there would act on the current cluster', () => {
    expect(helmfile.releases.filter((r) => r.hooks !== undefined).map((r) => r.name)).toEqual([]);
  });

  it('every kubectl call of the install scripts names the context (KUBE_CONTEXT)', () => {
    for (const f of ['install/install.sh', 'install/uninstall.sh', 'install/cluster-access.bash']) {
      const calls = readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*#/.test(l))
        .flatMap((l) => [...l.matchAll(/\bkubectl (\S+( \S+)?)/g)].map((m) => m[1]!));
      expect(calls.length, f).toBeGreaterThan(0);
      const allowed = (c: string): boolean =>
        c.startsWith('--context') ||
        c.startsWith('config current-context') ||
        c.startsWith('config use-context') ||
        c.startsWith('not found') ||
        c.startsWith('>/dev/null');
      expect(
        calls.filter((c) => !allowed(c)),
        f,
      ).toEqual([]);
    }
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).not.toMatch(/`kubectl -n kovenant port-forward/);
  });

  it('every file it refers to exists', () => {
    for (const r of helmfile.releases) {
      for (const v of r.values ?? []) expect(existsSync(join(ROOT, v)), v).toBe(true);
      for (const s of r.set ?? []) if (s.file) expect(existsSync(join(ROOT, s.file)), s.file).toBe(true);
      if (r.chart.startsWith('./')) expect(existsSync(join(ROOT, r.chart, 'Chart.yaml')), r.chart).toBe(true);
    }
  });

  it('passes every dashboard to the kovenant chart', () => {
    const set = byName.get('kovenant')!.set ?? [];
    const passed = set
      .filter((s) => s.name.startsWith('grafana.dashboards.'))
      .map((s) => s.file)
      .sort();
    expect(passed).toEqual(
      filesIn('dashboards', '.json')
        .map((f) => relative(ROOT, f))
        .sort(),
    );
    for (const s of set) expect(s.name).toBe(`grafana.dashboards.${s.file!.split('/').pop()!.replace(/\./g, '\\.')}`);
  });

  it('orders kovenant after Tetragon and InfluxDB, and only refers to releases it defines', () => {
    const ids = new Set(helmfile.releases.map((r) => `${r.namespace}/${r.name}`));
    for (const r of helmfile.releases) for (const n of r.needs ?? []) expect(ids, `${r.name} needs ${n}`).toContain(n);
    expect(byName.get('kovenant')!.needs).toEqual(expect.arrayContaining(['kube-system/tetragon', 'kovenant/influxdb']));
  });

  it("Tetragon's export matches what kovenant reads", () => {
    const tetragon = parseYaml(readFileSync(join(ROOT, 'install/values/tetragon.yaml'), 'utf8')) as {
      exportDirectory: string;
      tetragon: { exportFilename: string; exportDenyList: string; exportAllowList: string };
      export: { mode: string };
    };
    const kovenant = defaultValues() as unknown as { config: { events: string }; hostPaths: { tetragonExport: string } };
    expect(kovenant.config.events).toBe(`file:${tetragon.exportDirectory}/${tetragon.tetragon.exportFilename}`);
    expect(kovenant.hostPaths.tetragonExport).toBe(tetragon.exportDirectory);
    expect(tetragon.tetragon.exportAllowList).toContain('PROCESS_KPROBE');
    // Host processes (namespace "") must not be denied: the contract includes them.
    const deny = tetragon.tetragon.exportDenyList.split('\n').map((l) => JSON.parse(l) as { namespace?: string[] });
    for (const d of deny) expect(d.namespace ?? []).not.toContain('');
    expect(tetragon.export.mode).toBe('');
  });

  it('InfluxDB and Grafana take their credentials from the Secrets install.sh creates', () => {
    const influx = parseYaml(readFileSync(join(ROOT, 'install/values/influxdb.yaml'), 'utf8')) as {
      adminUser: { existingSecret: string; token?: string; password?: string };
      persistence: { enabled: boolean; useExisting: boolean; name: string };
    };
    const grafana = parseYaml(readFileSync(join(ROOT, 'install/values/grafana.yaml'), 'utf8')) as {
      admin: { existingSecret: string };
      adminPassword?: string;
    };
    const script = readFileSync(join(ROOT, 'install/install.sh'), 'utf8');
    expect(influx.adminUser.existingSecret).toBe('influxdb-auth');
    expect(influx.adminUser.token).toBeUndefined();
    expect(influx.adminUser.password).toBeUndefined();
    expect(grafana.admin.existingSecret).toBe('grafana-admin');
    expect(grafana.adminPassword).toBeUndefined();
    expect(script).toContain('apply_secret influxdb-auth');
    expect(script).toContain('apply_secret grafana-admin');
    // The data volume is created outside Helm, so no uninstall of the release can delete it.
    const pvc = parseYaml(readFileSync(join(ROOT, 'install/manifests/influxdb-pvc.yaml'), 'utf8')) as {
      kind: string;
      metadata: { name: string };
    };
    expect(influx.persistence).toMatchObject({ enabled: true, useExisting: true, name: pvc.metadata.name });
    expect(pvc.kind).toBe('PersistentVolumeClaim');
  });
});

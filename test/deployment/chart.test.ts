/**
 * kovenant's chart, linted and rendered by the real Helm (`npm run tools` builds it),
 * and checked for the properties the deployment promises (least privilege, probes,
 * mounts). The Kubernetes API server's own validation of what it renders is in
 * apiserver-validation.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonSet } from 'kubernetes-models/apps/v1';
import type { ConfigMap } from 'kubernetes-models/v1';
import type { IContainer, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RELEASE as release, VALUE_SETS, dashboardValues, helmLint, renderObjects, type K8sObject } from './support/helm.ts';
import { checkpointFileOf, resolveConfig } from '../../src/config/daemon-config.ts';
import { haveTools } from '../support/kube-apiserver.ts';
import { ROOT, filesIn } from './support/paths.ts';

const HELM = haveTools('helm');
const objects = HELM ? renderObjects() : [];
const find = (kind: string, from: K8sObject[] = objects): K8sObject => {
  const o = from.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind} rendered`);
  return o;
};
const daemonSet = (HELM ? find('DaemonSet') : { spec: { template: { spec: { containers: [] } } } }) as unknown as DaemonSet;
const podSpec = daemonSet.spec!.template.spec!;
const agent = podSpec.containers.find((c) => c.name === 'kovenant') as IContainer;

function grantedRules(from: K8sObject[]): string[] {
  const rules = (find('ClusterRole', from) as unknown as ClusterRole).rules as IPolicyRule[];
  return rules
    .flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}:${[...(r.verbs ?? [])].sort().join(',')}`)),
    )
    .sort();
}

describe.skipIf(!HELM)('helm lint --strict and helm template of install/chart/kovenant', () => {
  it.each(VALUE_SETS)('lints clean with %s', (_name, set) => {
    const r = helmLint(set);
    expect(r.output).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.output).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.status).toBe(0);
  });

  it.each(VALUE_SETS)('renders with %s, every namespaced object in the release namespace', (_name, set) => {
    const rendered = renderObjects(set);
    expect(rendered.length).toBeGreaterThanOrEqual(7);
    // The one exception by design: dnstap connect mode's headless Service selects the
    // CoreDNS pods, so it lives in their namespace (chart-dnstap.test.ts).
    const ownNamespace = rendered.filter((o) => !(o.kind === 'Service' && o.metadata.name.endsWith('-coredns-dnstap')));
    for (const obj of ownNamespace) if (obj.metadata.namespace !== undefined) expect(obj.metadata.namespace).toBe(release.namespace);
  });
});

describe.skipIf(!HELM)('install/chart/kovenant rendered with default values', () => {
  it('renders the expected objects', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/kovenant',
      'ClusterRoleBinding/kovenant',
      'ConfigMap/kovenant-config',
      'ConfigMap/kovenant-grafana-dashboards',
      'ConfigMap/kovenant-grafana-datasources',
      'DaemonSet/kovenant',
      'ServiceAccount/kovenant',
    ]);
  });

  it('the ClusterRole grants only get/list/watch on what the resolver reads, and pods/log only for k8s-logs', () => {
    const watched = [
      '/pods:get,list,watch',
      '/services:get,list,watch',
      '/nodes:get,list,watch',
      'apps/replicasets:get,list,watch',
      'apps/deployments:get,list,watch',
      'apps/statefulsets:get,list,watch',
      'apps/daemonsets:get,list,watch',
      'batch/jobs:get,list,watch',
      'batch/cronjobs:get,list,watch',
    ];
    expect(grantedRules(objects)).toEqual([...watched].sort());
    expect(grantedRules(renderObjects({ values: { config: { events: 'k8s-logs' } } }))).toEqual([...watched, '/pods/log:get'].sort());
    for (const r of (find('ClusterRole') as unknown as ClusterRole).rules ?? [])
      expect(r.resourceNames ?? [], 'no wildcard or named escalation').toEqual([]);
  });

  it('binds the ClusterRole to the DaemonSet service account', () => {
    const binding = find('ClusterRoleBinding') as unknown as ClusterRoleBinding;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kovenant' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: podSpec.serviceAccountName, namespace: 'kovenant' }]);
  });

  it('the agent runs on the host network with cluster DNS and the node name from the downward API', () => {
    expect(podSpec.hostNetwork).toBe(true);
    expect(podSpec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(agent.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(agent.args).toEqual(['run', '--config', '/etc/kovenant/config.yaml']);
    expect(agent.image).toMatch(/^ghcr\.io\/kovenant\/kovenant:\S+$/);
  });

  it('the agent container has no capability, no privilege escalation and a read-only root', () => {
    const sc = agent.securityContext!;
    expect(sc.privileged ?? false).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.capabilities).toEqual({ drop: ['ALL'] });
    expect(podSpec.hostPID ?? false).toBe(false);
    expect(podSpec.hostIPC ?? false).toBe(false);
  });

  it('only the one-shot conntrack-accounting init container is privileged, and it can be turned off', () => {
    const inits = podSpec.initContainers ?? [];
    expect(inits.map((c) => c.name)).toEqual(['conntrack-accounting']);
    expect(inits[0]!.command!.join(' ')).toContain('nf_conntrack_acct');
    const ds = renderObjects({ values: { conntrack: { enableAccounting: false } } }).find(
      (o) => o.kind === 'DaemonSet',
    ) as unknown as DaemonSet;
    expect(ds.spec!.template.spec!.initContainers).toBeUndefined();
  });

  // A private mount namespace needs root (CAP_SYS_ADMIN), as the netns tests do.
  it.skipIf(process.getuid?.() !== 0 && !process.env.CI)(
    'the init container sets nf_conntrack_acct, and on a node without nf_conntrack logs that and succeeds',
    () => {
      const init = (podSpec.initContainers ?? [])[0]!;
      expect(init.command!.slice(0, 2)).toEqual(['sh', '-c']);
      const script = init.command![2]!;
      // The script runs for real, in a private mount namespace whose
      // /proc/sys/net/netfilter is a scratch tmpfs: with the file (set to 0), then without it.
      const run = (withFile: boolean): { status: number | null; out: string; after: string } => {
        const r = spawnSync(
          'unshare',
          [
            '-m',
            'sh',
            '-c',
            `mount -t tmpfs none /proc/sys/net/netfilter && ${withFile ? 'echo 0 > /proc/sys/net/netfilter/nf_conntrack_acct && ' : ''}sh -c "$SCRIPT"; s=$?; echo "--"; cat /proc/sys/net/netfilter/nf_conntrack_acct 2>/dev/null; exit $s`,
          ],
          { encoding: 'utf8', env: { ...process.env, SCRIPT: script } },
        );
        const [out, after] = r.stdout.split('--\n');
        return { status: r.status, out: `${out}${r.stderr}`.trim(), after: (after ?? '').trim() };
      };
      const present = run(true);
      expect(present).toEqual({ status: 0, out: '/proc/sys/net/netfilter/nf_conntrack_acct set to 1', after: '1' });
      const absent = run(false);
      expect(absent.status).toBe(0);
      expect(absent.out).toBe(
        '/proc/sys/net/netfilter/nf_conntrack_acct absent (nf_conntrack not loaded on this node): no conntrack byte counters here, kprobe metrics unaffected',
      );
    },
  );

  it('takes the image from the chart values only; install/values/kovenant.yaml does not override it', () => {
    const chartValues = parseYaml(readFileSync(join(ROOT, 'install/chart/kovenant/values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
    };
    const installValues = parseYaml(readFileSync(join(ROOT, 'install/values/kovenant.yaml'), 'utf8')) as { image?: unknown };
    expect(installValues.image).toBeUndefined();
    expect(agent.image).toBe(`${chartValues.image.repository}:${chartValues.image.tag}`);
    expect(find('DaemonSet', renderObjects({ files: ['install/values/kovenant.yaml'] })).spec).toMatchObject({
      template: { spec: { containers: [{ image: agent.image }] } },
    });
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain("kovenant's image tag in\n`install/chart/kovenant/values.yaml`");
  });

  it('mounts the host paths it reads read-only and only its state directory (spool, checkpoint) writable', () => {
    const volumes = new Map((podSpec.volumes ?? []).map((v: IVolume) => [v.name, v]));
    const mounts = new Map((agent.volumeMounts ?? []).map((m: IVolumeMount) => [m.mountPath, m]));
    const hostMount = (mountPath: string): { hostPath: string; readOnly: boolean } => {
      const m = mounts.get(mountPath);
      expect(m, mountPath).toBeDefined();
      const hostPath = volumes.get(m!.name)?.hostPath?.path;
      expect(hostPath, mountPath).toBeDefined();
      return { hostPath: hostPath!, readOnly: m!.readOnly ?? false };
    };
    expect(hostMount('/var/run/cilium/tetragon')).toEqual({ hostPath: '/var/run/cilium/tetragon', readOnly: true });
    expect(hostMount('/host/proc')).toEqual({ hostPath: '/proc', readOnly: true });
    expect(hostMount('/host/sys/fs/cgroup')).toEqual({ hostPath: '/sys/fs/cgroup', readOnly: true });
    expect(hostMount('/var/lib/kovenant')).toEqual({ hostPath: '/var/lib/kovenant', readOnly: false });
    const writable = [...mounts.values()]
      .filter((m) => !m.readOnly)
      .map((m) => m.mountPath)
      .sort();
    expect(writable).toEqual(['/tmp', '/var/lib/kovenant']);
  });

  it('the config file is one the daemon accepts, and what it writes is on the writable state mount', () => {
    const file = parseYaml((find('ConfigMap') as unknown as ConfigMap).data!['config.yaml']!) as Record<string, unknown>;
    const config = resolveConfig({ file, fileName: 'config.yaml', env: {}, flags: {} });
    const writable = agent.volumeMounts!.filter((m) => !m.readOnly).map((m) => m.mountPath);
    const onWritable = (path: string): boolean => writable.some((dir) => path.startsWith(`${dir}/`));
    expect(onWritable(config.spoolDir!)).toBe(true);
    expect(onWritable(checkpointFileOf(config))).toBe(true);
    const stateMount = agent.volumeMounts!.find((m) => m.mountPath === '/var/lib/kovenant')!;
    expect((podSpec.volumes ?? []).find((v) => v.name === stateMount.name)?.hostPath?.path).toBe('/var/lib/kovenant');
  });

  it('the helmfile passes every dashboard of dashboards/ to the chart', () => {
    const helmfile = readFileSync(join(ROOT, 'helmfile.yaml'), 'utf8');
    for (const file of filesIn('dashboards', '.json')) {
      const name = file.split('/').pop()!;
      expect(helmfile, name).toContain(`- name: grafana.dashboards.${name.replace('.json', '\\.json')}\n        file: dashboards/${name}`);
    }
  });

  it('config.clusterName reaches the daemon config (the cluster tag); empty by default', () => {
    const configOf = (objects: K8sObject[]) =>
      resolveConfig({
        file: parseYaml((objects.find((o) => o.kind === 'ConfigMap') as unknown as ConfigMap).data!['config.yaml']!) as Record<
          string,
          unknown
        >,
        fileName: 'config.yaml',
        env: {},
        flags: {},
      });
    expect(configOf(renderObjects()).clusterName || undefined).toBeUndefined();
    expect(configOf(renderObjects({ values: { config: { clusterName: 'prod-eu' } } })).clusterName).toBe('prod-eu');
  });

  it('the config file matches the mounts, and the token comes from the Secret as a file', () => {
    const config = parseYaml((find('ConfigMap') as unknown as ConfigMap).data!['config.yaml']!) as Record<string, string | boolean>;
    expect(config).toMatchObject({
      events: 'file:/var/run/cilium/tetragon/tetragon.log',
      window: '10s',
      conntrack: true,
      cpu: true,
      procRoot: '/host/proc',
      cgroupRoot: '/host/sys/fs/cgroup',
      output: 'influx',
      spoolDir: '/var/lib/kovenant/spool',
      metricsAddr: '0.0.0.0:9464',
      // Tetragon's metrics, on the same (host) network as this pod.
      tetragonMetrics: 'http://127.0.0.1:2112/metrics',
    });
    expect(podSpec.hostNetwork).toBe(true);
    const tokenVolume = (podSpec.volumes ?? []).find((v) => v.secret);
    expect(tokenVolume?.secret).toEqual({ secretName: 'influxdb-auth', items: [{ key: 'admin-token', path: 'token' }] });
    const tokenMount = agent.volumeMounts!.find((m) => m.name === tokenVolume!.name)!;
    expect(`${tokenMount.mountPath}/token`).toBe(config.influxTokenFile);
    expect(tokenMount.readOnly).toBe(true);
    expect(JSON.stringify(objects)).not.toMatch(/token"?\s*:\s*"[A-Za-z0-9_=-]{20,}/i);
  });

  it('has resource requests and limits, probes on /healthz and /readyz, and Prometheus annotations', () => {
    expect(agent.resources?.requests).toMatchObject({ cpu: expect.any(String) as string, memory: expect.any(String) as string });
    expect(agent.resources?.limits).toMatchObject({ memory: expect.any(String) as string });
    expect(agent.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(agent.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
    expect(daemonSet.spec!.template.metadata!.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
  });

  it('rolls the pods when the config changes', () => {
    const before = daemonSet.spec!.template.metadata!.annotations!['checksum/config'];
    const changed = renderObjects({ values: { config: { window: '30s' } } }).find((o) => o.kind === 'DaemonSet') as unknown as DaemonSet;
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.spec!.template.metadata!.annotations!['checksum/config']).not.toBe(before);
  });

  it('provisions the datasources and dashboards for the Grafana sidecars without a credential', () => {
    const rendered = renderObjects({ values: dashboardValues() });
    const ds = rendered.find((o) => o.metadata.name === 'kovenant-grafana-datasources') as unknown as ConfigMap;
    expect(ds.metadata!.labels).toMatchObject({ grafana_datasource: '1' });
    const provisioning = parseYaml(Object.values(ds.data!)[0]!) as {
      datasources: Array<{ uid: string; type: string; secureJsonData?: Record<string, string> }>;
    };
    expect(provisioning.datasources.map((d) => `${d.uid}:${d.type}`).sort()).toEqual([
      'kovenant-influxdb:influxdb',
      'kovenant-prometheus:prometheus',
    ]);
    const influx = provisioning.datasources.find((d) => d.type === 'influxdb')!;
    expect(influx.secureJsonData).toEqual({ httpHeaderValue1: 'Token ${KOVENANT_INFLUX_TOKEN}' });
    const grafanaValues = parseYaml(readFileSync(join(ROOT, 'install/values/grafana.yaml'), 'utf8')) as {
      envValueFrom: Record<string, { secretKeyRef: { name: string; key: string } }>;
    };
    expect(grafanaValues.envValueFrom.KOVENANT_INFLUX_TOKEN?.secretKeyRef).toEqual({ name: 'influxdb-auth', key: 'admin-token' });

    const dash = rendered.find((o) => o.metadata.name === 'kovenant-grafana-dashboards') as unknown as ConfigMap;
    expect(dash.metadata!.labels).toMatchObject({ grafana_dashboard: '1' });
    const files = filesIn('dashboards', '.json');
    expect(Object.keys(dash.data!).sort()).toEqual(files.map((f) => f.split('/').pop()).sort());
    for (const f of files) expect(dash.data![f.split('/').pop()!]).toBe(readFileSync(f, 'utf8'));
    // A ConfigMap holds at most 1 MiB.
    expect(JSON.stringify(dash.data).length).toBeLessThan(900 * 1024);
  });
});

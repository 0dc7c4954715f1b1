/**
 * kovenant's chart, rendered with its default values by helm-lite (a stand-in
 * for `helm template`, see support/helm-lite.ts), validated object by object
 * against the Kubernetes schemas of kubernetes-models, and checked for the
 * properties the deployment promises (least privilege, probes, mounts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HelmLite, documents, type Json } from './support/helm-lite.ts';
import { checkpointFileOf, resolveConfig } from '../../src/config/daemon-config.ts';
import { CHART_DIR, ROOT, filesIn } from './support/paths.ts';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

const MODELS: Record<string, (o: K8sObject) => { validate(): void }> = {
  'apps/v1/DaemonSet': (o) => new DaemonSet(o as never),
  'v1/ConfigMap': (o) => new ConfigMap(o as never),
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRole': (o) => new ClusterRole(o as never),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (o) => new ClusterRoleBinding(o as never),
};

const helm = new HelmLite(CHART_DIR);
const release = { name: 'kovenant', namespace: 'kovenant' };

function renderObjects(overrides: { [key: string]: Json } = {}): K8sObject[] {
  return documents(helm.render(release, overrides)).map(({ source, text }) => {
    const obj = parseYaml(text) as K8sObject;
    expect(obj, source).toBeTypeOf('object');
    return obj;
  });
}

/** What helmfile.yaml passes for the dashboards (`set: file:`), read the same way. */
function dashboardValues(): { [key: string]: Json } {
  const dashboards: { [key: string]: Json } = {};
  for (const file of filesIn('dashboards', '.json')) dashboards[file.split('/').pop()!] = readFileSync(file, 'utf8');
  return { grafana: { dashboards } };
}

const objects = renderObjects();
const find = (kind: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind} rendered`);
  return o;
};
const daemonSet = find('DaemonSet') as unknown as DaemonSet;
const podSpec = daemonSet.spec!.template.spec!;
const agent = podSpec.containers.find((c) => c.name === 'kovenant') as IContainer;

describe('install/chart/kovenant rendered with default values', () => {
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

  it.each([
    ['default values', {}],
    ['the dashboards helmfile passes', dashboardValues()],
    ['conntrack accounting off', { conntrack: { enableAccounting: false } }],
  ] as const)('every object validates against the Kubernetes schema with %s', (_name, overrides) => {
    for (const obj of renderObjects(overrides as { [key: string]: Json })) {
      const model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      expect(model, `no schema for ${obj.apiVersion} ${obj.kind}`).toBeDefined();
      expect(() => model!(obj).validate(), `${obj.kind}/${obj.metadata.name}`).not.toThrow();
      if (obj.metadata.namespace !== undefined) expect(obj.metadata.namespace).toBe(release.namespace);
    }
  });

  it('the ClusterRole grants only get/list/watch on what the resolver reads, and get on pods/log', () => {
    const rules = (find('ClusterRole') as unknown as ClusterRole).rules as IPolicyRule[];
    const granted = rules
      .flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => `${g}/${res}:${[...(r.verbs ?? [])].sort().join(',')}`)))
      .sort();
    expect(granted).toEqual(
      [
        '/pods:get,list,watch',
        '/services:get,list,watch',
        '/nodes:get,list,watch',
        'apps/replicasets:get,list,watch',
        'apps/deployments:get,list,watch',
        'apps/statefulsets:get,list,watch',
        'apps/daemonsets:get,list,watch',
        'batch/jobs:get,list,watch',
        'batch/cronjobs:get,list,watch',
        '/pods/log:get',
      ].sort(),
    );
    for (const r of rules) expect(r.resourceNames ?? [], 'no wildcard or named escalation').toEqual([]);
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
    const ds = renderObjects({ conntrack: { enableAccounting: false } }).find((o) => o.kind === 'DaemonSet') as unknown as DaemonSet;
    expect(ds.spec!.template.spec!.initContainers).toBeUndefined();
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
    const writable = [...mounts.values()].filter((m) => !m.readOnly).map((m) => m.mountPath).sort();
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
      resolveConfig({ file: parseYaml((objects.find((o) => o.kind === 'ConfigMap') as unknown as ConfigMap).data!['config.yaml']!) as Record<string, unknown>, fileName: 'config.yaml', env: {}, flags: {} });
    expect(configOf(renderObjects()).clusterName || undefined).toBeUndefined();
    expect(configOf(renderObjects({ config: { clusterName: 'prod-eu' } })).clusterName).toBe('prod-eu');
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
    });
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
    const changed = renderObjects({ config: { window: '30s' } }).find((o) => o.kind === 'DaemonSet') as unknown as DaemonSet;
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(changed.spec!.template.metadata!.annotations!['checksum/config']).not.toBe(before);
  });

  it('provisions the datasources and dashboards for the Grafana sidecars without a credential', () => {
    const rendered = renderObjects(dashboardValues());
    const ds = rendered.find((o) => o.metadata.name === 'kovenant-grafana-datasources') as unknown as ConfigMap;
    expect(ds.metadata!.labels).toMatchObject({ grafana_datasource: '1' });
    const provisioning = parseYaml(Object.values(ds.data!)[0]!) as {
      datasources: Array<{ uid: string; type: string; secureJsonData?: Record<string, string> }>;
    };
    expect(provisioning.datasources.map((d) => `${d.uid}:${d.type}`).sort()).toEqual(['kovenant-influxdb:influxdb', 'kovenant-prometheus:prometheus']);
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

/**
 * The chart's dnstap opt-in (`dnstap.enabled`): off by default; on, every agent listens
 * on the port, a ClusterIP Service fronts the agents, and the daemon config it writes
 * is valid. The chart never renders anything of CoreDNS's.
 */
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderObjects, type Json, type K8sObject } from './support/helm.ts';
import { resolveConfig } from '../../src/config/daemon-config.ts';
import { haveTools } from '../support/kube-apiserver.ts';

const HELM = haveTools('helm');
const render = (values: { [key: string]: Json } = {}): K8sObject[] => renderObjects({ values });

function configOf(objects: K8sObject[]): ReturnType<typeof resolveConfig> {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kovenant-config') as unknown as ConfigMap;
  return resolveConfig({
    file: parseYaml(cm.data!['config.yaml']!) as Record<string, unknown>,
    fileName: 'config.yaml',
    env: {},
    flags: {},
  });
}

const agentPorts = (objects: K8sObject[]) =>
  (objects.find((o) => o.kind === 'DaemonSet') as unknown as DaemonSet).spec!.template.spec!.containers.find((c) => c.name === 'kovenant')!
    .ports;

describe.skipIf(!HELM)('chart: dnstap opt-in (real helm template)', () => {
  it('is off by default: no Service, no listener, no port', () => {
    const objects = render();
    expect(objects.filter((o) => o.kind === 'Service')).toEqual([]);
    expect(configOf(objects).dnstapListen).toBeUndefined();
    expect(agentPorts(objects)?.map((p) => p.name)).toEqual(['metrics']);
  });

  it('listen: the agents listen on the port and a ClusterIP Service (optionally pinned) fronts them; nothing of CoreDNS is rendered', () => {
    const objects = render({ dnstap: { listen: { enabled: true, port: 6000, clusterIP: '10.96.0.53' } }, config: { dnsCacheMax: 200000 } });
    expect(configOf(objects)).toMatchObject({ dnstapListen: '0.0.0.0:6000', dnsCacheMax: 200000 });
    expect(configOf(objects).dnstapConnect).toBeUndefined();
    expect(agentPorts(objects)).toContainEqual({ name: 'dnstap', containerPort: 6000, protocol: 'TCP' });
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services).toHaveLength(1);
    const svc = new Service(services[0] as never);
    expect(() => svc.validate()).not.toThrow();
    expect(svc.metadata!.name).toBe('kovenant-dnstap');
    expect(svc.metadata!.namespace).toBe('kovenant');
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP',
      clusterIP: '10.96.0.53',
      ports: [{ name: 'dnstap', port: 6000, targetPort: 'dnstap', protocol: 'TCP' }],
    });
    const ds = objects.find((o) => o.kind === 'DaemonSet') as unknown as DaemonSet;
    expect(svc.spec!.selector).toEqual(ds.spec!.selector.matchLabels);
    expect(() => new DaemonSet(ds as never).validate()).not.toThrow();
    expect(objects.some((o) => o.metadata.namespace === 'kube-system' || /coredns/i.test(o.metadata.name))).toBe(false);
    // Without a pinned address, Kubernetes chooses one.
    const unpinned = render({ dnstap: { listen: { enabled: true } } }).find((o) => o.kind === 'Service') as unknown as Service;
    expect(unpinned.spec!.clusterIP).toBeUndefined();
  });

  it('connect: every agent dials the headless Service of the CoreDNS pods; only that Service is created in their namespace', () => {
    const objects = render({ dnstap: { connect: { enabled: true } } });
    expect(configOf(objects)).toMatchObject({ dnstapConnect: 'kovenant-coredns-dnstap.kube-system.svc:6001' });
    expect(configOf(objects).dnstapListen).toBeUndefined();
    expect(agentPorts(objects)?.map((p) => p.name)).toEqual(['metrics']);
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['kube-system/kovenant-coredns-dnstap']);
    const svc = new Service(services[0] as never);
    expect(() => svc.validate()).not.toThrow();
    expect(svc.spec).toMatchObject({
      clusterIP: 'None',
      selector: { 'k8s-app': 'kube-dns' },
      ports: [{ name: 'dnstap', port: 6001, targetPort: 6001, protocol: 'TCP' }],
    });
    // Nothing else outside kovenant's namespace: CoreDNS's ConfigMap and Deployment are never rendered.
    expect(objects.filter((o) => o.metadata.namespace !== undefined && o.metadata.namespace !== 'kovenant')).toHaveLength(1);
    expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'kube-system')).toBe(false);

    // Your own name to dial: no Service at all.
    const own = render({ dnstap: { connect: { enabled: true, service: { create: false }, target: 'dns-pods.example.internal:6001' } } });
    expect(configOf(own).dnstapConnect).toBe('dns-pods.example.internal:6001');
    expect(own.filter((o) => o.kind === 'Service')).toEqual([]);
  });
});

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WindowAggregator } from '../../src/aggregate/window-aggregator.ts';
import { NodeCpuCollector, clockTicksPerSecond, parseProcStat } from '../../src/collectors/cpu/proc-stat.ts';
import { PodCpuCollector, parseCpuStatUsage, parseCpuacctUsage, podUidOfCgroup, scanPodCgroups } from '../../src/collectors/cpu/pod-cpu.ts';
import { MetadataIndex } from '../../src/enrich/metadata/metadata-index.ts';
import { projectController, projectNode, projectPod } from '../../src/enrich/metadata/projection.ts';
import { Resolver } from '../../src/enrich/resolver.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) Math.sqrt(Math.random());
}

describe('node CPU from the real /proc/stat', () => {
  it('parses the machine /proc/stat', () => {
    const ticks = parseProcStat(readFileSync('/proc/stat', 'utf8'))!;
    expect(Object.keys(ticks).sort()).toEqual(['idle', 'iowait', 'irq', 'softirq', 'steal', 'system', 'user']);
    expect(ticks.user + ticks.idle).toBeGreaterThan(0);
    expect(clockTicksPerSecond()).toBe(100);
  });

  it('adds up, over all modes, to wall time × CPUs between two samples', async () => {
    const agg = new WindowAggregator({ windowMs: 3_600_000, latenessMs: 0 });
    const c = new NodeCpuCollector('/proc', 1000, 'n1');
    await c.collect(1000, agg);
    const started = performance.now();
    busy(400);
    // Idle time is part of what the sample must add up (an input, not a wait for a result).
    await new Promise((r) => setTimeout(r, 200));
    await c.collect(2000, agg);
    const elapsed = (performance.now() - started) / 1000;
    const points = agg.closeAll();
    const byMode: Record<string, number> = Object.fromEntries(points.map((p) => [p.tags.mode, p.floats!.seconds!]));
    const total = Object.values(byMode).reduce((a, b) => a + b, 0);
    // The CPUs /proc/stat sums over (the online ones), not availableParallelism(): a
    // process pinned to fewer CPUs (taskset, a container's cpuset) still sees all of them here.
    const cpus = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((l) => /^cpu\d+ /.test(l)).length;
    // Tick granularity (10 ms per CPU) and sampling skew bound the error.
    expect(total).toBeGreaterThan(elapsed * cpus * 0.8);
    expect(total).toBeLessThan(elapsed * cpus * 1.2 + 0.05);
    expect(byMode.user).toBeGreaterThan(0.2);
    expect(points.every((p) => p.measurement === 'kovenant_node_cpu' && p.tags.node === 'n1')).toBe(true);
  });
  it('carries the node zone, region and cluster, and follows a label change', async () => {
    const index = new MetadataIndex();
    const zoned = (zone: string) =>
      projectNode({
        kind: 'Node',
        metadata: { name: 'n1', uid: 'n1', labels: { 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/region': 'r1' } },
        status: { addresses: [] },
      });
    index.upsertNode(zoned('z1'));
    const agg = new WindowAggregator({ windowMs: 1000, latenessMs: 0 });
    const c = new NodeCpuCollector('/proc', 1000, 'n1', 100, new Resolver(index, { cluster: 'c1' }));
    await c.collect(500, agg);
    busy(50);
    await c.collect(1500, agg);
    index.upsertNode(zoned('z2'));
    busy(50);
    await c.collect(2500, agg);
    const tags = agg.closeAll().map((p) => `${p.timeMs} ${p.tags.cluster} ${p.tags.zone} ${p.tags.region} ${p.tags.node}`);
    expect(new Set(tags)).toEqual(new Set(['1000 c1 z1 r1 n1', '2000 c1 z2 r1 n1']));
  });
});

describe('pod CPU from cgroups', () => {
  it('reads the usage of the real cgroup files of this machine', () => {
    const v2 = ['/sys/fs/cgroup/cpu.stat', '/sys/fs/cgroup/unified/cpu.stat'].find((p) => existsSync(p));
    const v1 = ['/sys/fs/cgroup/cpuacct/cpuacct.usage', '/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage'].find((p) => existsSync(p));
    expect(v2 ?? v1, 'no cgroup CPU accounting file on this machine').toBeDefined();
    if (v2) expect(parseCpuStatUsage(readFileSync(v2, 'utf8'))).toBeGreaterThan(0);
    if (v1) expect(parseCpuacctUsage(readFileSync(v1, 'utf8'))).toBeGreaterThan(0);
  });

  it('maps both cgroup driver layouts to pod UIDs', () => {
    expect(podUidOfCgroup('kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice')).toBe('0a1b2c3d-4e5f-6789-abcd-ef0123456789');
    expect(podUidOfCgroup('kubepods-pod0A1B2C3D_4E5F_6789_ABCD_EF0123456789.slice')).toBe('0a1b2c3d-4e5f-6789-abcd-ef0123456789');
    expect(podUidOfCgroup('pod0a1b2c3d-4e5f-6789-abcd-ef0123456789')).toBe('0a1b2c3d-4e5f-6789-abcd-ef0123456789');
    expect(podUidOfCgroup('kubepods-burstable.slice')).toBeUndefined();
    expect(podUidOfCgroup('cri-containerd-0a1b2c3d.scope')).toBeUndefined();
  });

  const UID_A = '11111111-2222-3333-4444-555555555555';
  const UID_B = '66666666-7777-8888-9999-000000000000';

  function cgroupTree(): { root: string; setA(usec: number): void; setB(ns: number): void } {
    const root = mkdtempSync(join(tmpdir(), 'kovenant-cg-'));
    dirs.push(root);
    // v2, systemd driver, pod A (with a container below that must not add again).
    const a = join(root, 'unified/kubepods.slice/kubepods-burstable.slice', `kubepods-burstable-pod${UID_A.replace(/-/g, '_')}.slice`);
    mkdirSync(join(a, 'cri-containerd-abc.scope'), { recursive: true });
    writeFileSync(join(a, 'cri-containerd-abc.scope/cpu.stat'), 'usage_usec 999999999\n');
    // v1, cgroupfs driver, pod B; plus pod A again in v1 (hybrid host): must not count twice.
    const b = join(root, 'cpuacct/kubepods/besteffort', `pod${UID_B}`);
    mkdirSync(b, { recursive: true });
    const a1 = join(root, 'cpuacct/kubepods/burstable', `pod${UID_A}`);
    mkdirSync(a1, { recursive: true });
    writeFileSync(join(a1, 'cpuacct.usage'), '5000000000000\n');
    // Not kubepods: ignored even though the name looks like a pod.
    mkdirSync(join(root, 'system.slice', `pod${UID_B}`), { recursive: true });
    writeFileSync(join(root, 'system.slice', `pod${UID_B}`, 'cpuacct.usage'), '1\n');
    return {
      root,
      setA: (usec) => writeFileSync(join(a, 'cpu.stat'), `usage_usec ${usec}\nuser_usec 1\nsystem_usec 1\nnr_periods 0\n`),
      setB: (ns) => writeFileSync(join(b, 'cpuacct.usage'), `${ns}\n`),
    };
  }

  it('turns usage deltas into cpu_seconds and cpu_cores with the pod local tags', async () => {
    const tree = cgroupTree();
    tree.setA(1_000_000);
    tree.setB(2_000_000_000);
    expect((await scanPodCgroups(tree.root)).map((u) => u.uid)).toEqual([UID_A, UID_B, UID_A]);
    const store = new MetadataIndex();
    store.upsertPod(
      projectPod({
        kind: 'Pod',
        metadata: {
          name: 'web-1',
          namespace: 'shop',
          uid: UID_A,
          ownerReferences: [{ kind: 'StatefulSet', name: 'web', controller: true }],
        },
        status: { phase: 'Running' },
      }),
    );
    store.upsertController(
      projectController({
        kind: 'StatefulSet',
        metadata: { name: 'web', namespace: 'shop', uid: 'ss', annotations: { 'meta.helm.sh/release-name': 'shop' } },
      })!,
    );
    const agg = new WindowAggregator({ windowMs: 10_000, latenessMs: 0 });
    const c = new PodCpuCollector(tree.root, 1000, 'n1', store, new Resolver(store));
    await c.collect(1000, agg);
    tree.setA(6_000_000); // +5 s
    tree.setB(3_000_000_000); // +1 s, but B is unknown to the store
    await c.collect(2000, agg);
    tree.setA(8_500_000); // +2.5 s
    await c.collect(3000, agg);
    const points = agg.closeAll();
    expect(points).toHaveLength(1);
    expect(points[0]!.measurement).toBe('kovenant_cpu');
    expect(points[0]!.tags).toEqual({
      node: 'n1',
      namespace: 'shop',
      pod: 'web-1',
      workload: 'web',
      workload_kind: 'StatefulSet',
      release: 'shop',
    });
    expect(points[0]!.floats!.cpu_seconds).toBeCloseTo(7.5, 9);
    expect(points[0]!.floats!.cpu_cores).toBeCloseTo(0.75, 9);
    expect(c.unknownPods).toBe(1);
  });
});

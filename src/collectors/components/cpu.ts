/** `cpu`: /proc/stat into kovenant_node_cpu, and pod cgroups into kovenant_cpu (both on with `cpu: true`). */
import * as z from 'zod';
import { durationMs } from '../../core/config-values.ts';
import { collectorComponent, collectorFactory } from '../collector-component.ts';
import { PodCpuCollector } from '../cpu/pod-cpu.ts';
import { NodeCpuCollector } from '../cpu/proc-stat.ts';

const schema = z.object({
  cpu: z.boolean().default(false),
  procRoot: z.string().min(1).default('/proc'),
  cgroupRoot: z.string().min(1).default('/sys/fs/cgroup'),
  cpuInterval: durationMs('--cpu-interval').default(5000),
  nodeName: z.string().optional(),
});

const enabled = (config: z.output<typeof schema>): boolean => config.cpu;

export const nodeCpuCollector = collectorFactory({
  name: 'node_cpu',
  description: "the node's CPU time by mode, from /proc/stat",
  schema,
  enabled,
  build: (config, { resolver }) =>
    collectorComponent(new NodeCpuCollector(config.procRoot, config.cpuInterval, config.nodeName, undefined, resolver)),
});

export const podCpuCollector = collectorFactory({
  name: 'cpu',
  description: "each pod's CPU time, from its cgroup",
  schema,
  enabled,
  build(config, { resolver }) {
    const c = new PodCpuCollector(config.cgroupRoot, config.cpuInterval, config.nodeName, resolver.store, resolver);
    return collectorComponent(c, () => ({ cpu_unknown_pods: c.unknownPods }));
  },
});

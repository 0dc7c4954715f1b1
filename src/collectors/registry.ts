/**
 * Every node collector. Adding a collector: a file in `src/collectors/components/`
 * exporting a `CollectorFactory`, and one line here; the daemon builds those whose
 * `enabled(config)` holds, in this order.
 */
import type { CollectorFactory } from './collector-component.ts';
import { conntrackCollector } from './components/conntrack.ts';
import { nodeCpuCollector, podCpuCollector } from './components/cpu.ts';
import { sourceCollector } from './components/source.ts';

export const COLLECTORS: readonly CollectorFactory[] = [
  sourceCollector,
  conntrackCollector,
  nodeCpuCollector,
  podCpuCollector,
] as readonly CollectorFactory[];

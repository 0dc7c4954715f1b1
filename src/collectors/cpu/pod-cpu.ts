/**
 * kovenant_cpu: CPU time per pod from its cgroup under the kubepods hierarchy, mapped
 * to the pod by the UID in the cgroup's name and attributed with the pod's local tags
 * (those of kovenant_io).
 *
 * - cgroup v2: `cpu.stat` `usage_usec`; cgroup v1: `cpuacct.usage` (nanoseconds).
 * - systemd driver: `kubepods-burstable-pod<uid, "-" as "_">.slice`; cgroupfs driver:
 *   `kubepods/burstable/pod<uid>`. Both are found by walking the cgroup root.
 * - On a hybrid host a pod appears in both hierarchies; the first file found for a UID
 *   (v2 before v1 in the walk order) stays its source, so it is never counted twice.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CPU_FIELDS, CPU_SLOTS } from '../../aggregate/field-schema.ts';
import type { WindowAggregator } from '../../aggregate/window-aggregator.ts';
import type { MetadataStore } from '../../enrich/metadata/model.ts';
import type { Resolver } from '../../enrich/resolver.ts';
import { makeSeries, type Series } from '../../core/series.ts';
import { collectorWatermarkKey, type NodeCollector } from '../collector.ts';

const POD_DIR = /(?:^|[-_])pod([0-9a-fA-F]{8}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{4}[-_][0-9a-fA-F]{12})(?:\.slice)?$/;
/** kubepods sits a few levels below the root (v1 controller dirs, kubepods.slice, QoS classes). */
const MAX_DEPTH = 6;

/** The pod UID a cgroup directory name stands for, or undefined. */
export function podUidOfCgroup(dirName: string): string | undefined {
  const m = POD_DIR.exec(dirName);
  return m ? m[1]!.replace(/_/g, '-').toLowerCase() : undefined;
}

/** `usage_usec` of a cgroup v2 `cpu.stat`, in seconds. */
export function parseCpuStatUsage(text: string): number | undefined {
  const m = /^usage_usec\s+(\d+)$/m.exec(text);
  return m ? Number(m[1]) / 1e6 : undefined;
}

/** A cgroup v1 `cpuacct.usage` (nanoseconds), in seconds. */
export function parseCpuacctUsage(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) / 1e9 : undefined;
}

export interface PodCgroupUsage {
  uid: string;
  path: string;
  seconds: number;
}

/** Every pod cgroup under `root` (kubepods trees only) with its CPU usage. */
export async function scanPodCgroups(root: string): Promise<PodCgroupUsage[]> {
  const out: PodCgroupUsage[] = [];
  async function walk(dir: string, depth: number, underKubepods: boolean): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // a pod's cgroup can vanish mid-walk
    }
    entries.sort((a, b) => (a.name === 'unified' ? -1 : b.name === 'unified' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      const kube = underKubepods || e.name.startsWith('kubepods');
      const uid = kube ? podUidOfCgroup(e.name) : undefined;
      if (uid) {
        const seconds = await readUsage(path);
        if (seconds !== undefined) out.push({ uid, path, seconds });
        continue; // containers below are already inside the pod's total
      }
      if (depth < MAX_DEPTH) await walk(path, depth + 1, kube);
    }
  }
  await walk(root, 0, false);
  return out;
}

async function readUsage(dir: string): Promise<number | undefined> {
  try {
    return parseCpuStatUsage(await readFile(join(dir, 'cpu.stat'), 'utf8'));
  } catch {
    // not v2, or no cpu controller here
  }
  try {
    return parseCpuacctUsage(await readFile(join(dir, 'cpuacct.usage'), 'utf8'));
  } catch {
    return undefined;
  }
}

export class PodCpuCollector implements NodeCollector {
  readonly name = 'cpu';
  private previous = new Map<string, number>();
  private sourceOf = new Map<string, string>();
  private baselined = false;
  /** Pod cgroups whose UID the metadata store does not know (yet). */
  unknownPods = 0;

  constructor(
    private readonly cgroupRoot: string,
    readonly intervalMs: number,
    private readonly nodeName: string | undefined,
    private readonly store: MetadataStore,
    private readonly resolver: Resolver,
  ) {}

  async collect(nowMs: number, aggregator: WindowAggregator): Promise<void> {
    const current = new Map<string, number>();
    const seenUids = new Set<string>();
    for (const u of await scanPodCgroups(this.cgroupRoot)) {
      const source = this.sourceOf.get(u.uid);
      if (source === undefined) this.sourceOf.set(u.uid, u.path);
      else if (source !== u.path) continue;
      seenUids.add(u.uid);
      current.set(u.uid, u.seconds);
    }
    for (const uid of this.sourceOf.keys()) if (!seenUids.has(uid)) this.sourceOf.delete(uid);
    const before = this.previous;
    this.previous = current;
    if (!this.baselined) {
      this.baselined = true;
      return;
    }
    // The window this sample falls in: with --window dynamic lengths change over time.
    const windowSeconds = aggregator.windowLengthAt(nowMs) / 1000;
    for (const [uid, seconds] of current) {
      const prev = before.get(uid);
      // A new pod counts from its start; a usage lower than before is a recreated cgroup.
      const used = prev === undefined || seconds < prev ? seconds : seconds - prev;
      if (used <= 0) continue;
      const series = this.seriesOf(uid);
      if (!series) {
        this.unknownPods++;
        continue;
      }
      const v = aggregator.slotValues(collectorWatermarkKey(this.nodeName ?? '', this.name), nowMs, series, CPU_FIELDS);
      v[CPU_SLOTS.cpu_seconds]! += used;
      // The average is linear in the sum, so it can be accumulated like one.
      v[CPU_SLOTS.cpu_cores]! += used / windowSeconds;
    }
  }

  private seriesOf(uid: string): Series | undefined {
    const pod = this.store.podByUid(uid);
    if (!pod) return undefined;
    return makeSeries('kovenant_cpu', this.resolver.localPod(this.nodeName, pod.namespace, pod.name).tags);
  }
}

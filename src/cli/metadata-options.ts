/** Where replay gets Kubernetes metadata from: `--kube` snapshots (or, later, live watches). */
import type { MetadataStore } from '../enrich/metadata/model.ts';
import { MetadataIndex } from '../enrich/metadata/metadata-index.ts';
import { loadSnapshots } from '../enrich/metadata/snapshot.ts';

export interface MetadataOptions {
  kube?: string[];
}

export interface OpenedMetadata {
  store: MetadataStore;
  /** Stops watches, if any. */
  close(): Promise<void>;
}

export async function openMetadata(options: MetadataOptions, warn: (line: string) => void): Promise<OpenedMetadata> {
  const snapshots = options.kube ?? [];
  if (snapshots.length) return { store: await loadSnapshots(snapshots), close: async () => {} };
  warn('kovenant: no --kube snapshot given: pods are attributed from the events alone and every remote address counts as external');
  return { store: new MetadataIndex(), close: async () => {} };
}

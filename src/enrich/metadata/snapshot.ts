/**
 * A metadata store from `kubectl get nodes,pods,services,replicasets,deployments,
 * statefulsets,daemonsets,jobs,cronjobs -A -o json` (a List) or the same as YAML
 * (several documents allowed), for offline replay.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../../core/input-error.ts';
import { MetadataIndex } from './metadata-index.ts';
import { projectController, projectNode, projectPod, projectService, type KubeObject } from './projection.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens Lists (and Lists of Lists); anything without `kind` is a format error. */
function* objectsOf(doc: unknown, file: string): Generator<KubeObject> {
  if (doc === null || doc === undefined) return;
  // A bare array of objects (some tools print the List's items alone).
  if (Array.isArray(doc)) {
    for (const item of doc) yield* objectsOf(item, file);
    return;
  }
  if (!isRecord(doc) || typeof doc.kind !== 'string') {
    throw new InputError(`${file}: not a Kubernetes object or List (no "kind")`, 'pass the output of kubectl get ... -o json or -o yaml');
  }
  if (doc.kind === 'List' || doc.kind.endsWith('List')) {
    const items = doc.items;
    if (!Array.isArray(items)) throw new InputError(`${file}: ${doc.kind} without an "items" array`);
    for (const item of items) {
      // Typed lists (PodList) omit each item's kind.
      const withKind =
        isRecord(item) && typeof item.kind !== 'string' && doc.kind !== 'List'
          ? { ...item, kind: doc.kind.slice(0, -'List'.length) }
          : item;
      yield* objectsOf(withKind, file);
    }
    return;
  }
  yield doc as KubeObject;
}

export function addToIndex(index: MetadataIndex, obj: KubeObject): void {
  if (obj.kind === 'Pod') index.upsert('Pod', projectPod(obj));
  else if (obj.kind === 'Service') index.upsert('Service', projectService(obj));
  else if (obj.kind === 'Node') index.upsert('Node', projectNode(obj));
  else {
    const controller = projectController(obj);
    if (controller) index.upsert(controller.kind, controller);
  }
}

export async function parseSnapshot(text: string, file: string): Promise<unknown[]> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(text) as unknown];
    } catch (err) {
      throw new InputError(`${file}: invalid JSON: ${(err as Error).message}`, 'the snapshot must be kubectl get ... -o json output');
    }
  }
  // Loaded for YAML only: JSON snapshots (kubectl -o json) need no YAML parser at start-up.
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw new InputError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${err.message.split('\n')[0]}`);
    }
    out.push(doc.toJS() as unknown);
  }
  return out;
}

/**
 * Loads snapshot files into `index`. A file without a single object (`/dev/null`, an
 * empty `kubectl` output) is refused unless `allowEmpty`: attribution would silently
 * fall back to the events alone.
 */
export async function loadSnapshots(
  files: readonly string[],
  index = new MetadataIndex(),
  options: { allowEmpty?: boolean } = {},
): Promise<MetadataIndex> {
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw InputError.fromFs(file, err);
    }
    let objects = 0;
    for (const doc of await parseSnapshot(text, file)) {
      for (const obj of objectsOf(doc, file)) {
        addToIndex(index, obj);
        objects++;
      }
    }
    if (objects === 0 && !options.allowEmpty) {
      throw new InputError(
        `${file}: empty snapshot: no Kubernetes objects`,
        'give kubectl get nodes,pods,services,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs -A -o json output, or --allow-empty-kube to attribute from the events alone',
      );
    }
  }
  return index;
}

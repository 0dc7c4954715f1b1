/**
 * Tetragon's export field filters (`tetragon.fieldFilters`), applied to a line the way
 * Tetragon applies them (pkg/fieldfilters: a protobuf field mask over the event's own
 * message; everything beside the event, `node_name`, `time`, `node_labels`,
 * `cluster_name`, is kept). Only INCLUDE filters are modelled: the one our values set.
 * A message on an included path is kept even when nothing under it is (`"process":{}`
 * for a host process), as the mask copies the parent before its fields.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface IncludeFilter {
  eventSet: string[];
  fields: string[];
}

/** The filters of install/values/tetragon.yaml. */
export function ourFieldFilters(): IncludeFilter[] {
  const values = parseYaml(readFileSync(resolve(import.meta.dirname, '../install/values/tetragon.yaml'), 'utf8')) as {
    tetragon: { fieldFilters?: string };
  };
  return (values.tetragon.fieldFilters ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = JSON.parse(l) as { event_set?: string[]; fields: string; action: string };
      if (f.action !== 'INCLUDE') throw new Error(`only INCLUDE filters are modelled: ${l}`);
      return { eventSet: f.event_set ?? [], fields: f.fields.split(',').map((s) => s.trim()) };
    });
}

const EVENT_TYPE: Record<string, string> = {
  PROCESS_KPROBE: 'process_kprobe',
  PROCESS_EXEC: 'process_exec',
  PROCESS_EXIT: 'process_exit',
  PROCESS_THROTTLE: 'process_throttle',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mask(src: Record<string, unknown>, paths: string[][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(src)) {
    const under = paths.filter((p) => p[0] === key);
    if (under.length === 0) continue;
    if (under.some((p) => p.length === 1) || !isRecord(value)) out[key] = value;
    else
      out[key] = mask(
        value,
        under.map((p) => p.slice(1)),
      );
  }
  return out;
}

/** The line as Tetragon would export it with `filters` (JSON key order kept). */
export function filterLine(line: string, filters: IncludeFilter[] = ourFieldFilters()): string {
  const doc = JSON.parse(line) as Record<string, unknown>;
  for (const f of filters) {
    const types = f.eventSet.length ? f.eventSet.map((t) => EVENT_TYPE[t]) : Object.keys(doc);
    for (const key of Object.keys(doc)) {
      if (!types.includes(key) || !isRecord(doc[key])) continue;
      doc[key] = mask(
        doc[key] as Record<string, unknown>,
        f.fields.map((p) => p.split('.')),
      );
    }
  }
  return JSON.stringify(doc);
}

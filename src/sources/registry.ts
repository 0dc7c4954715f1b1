/**
 * Every source, by name. Adding a source: a file in `src/sources/components/` exporting
 * a `SourceFactory`, and one line here (the daemon maps its `events` key to these names
 * in src/daemon/events.ts).
 */
import { followSource } from './components/follow.ts';
import { k8sLogsSource } from './components/k8s-logs.ts';
import { readSource } from './components/read.ts';

export const SOURCES = { read: readSource, follow: followSource, 'k8s-logs': k8sLogsSource } as const;

export type SourceName = keyof typeof SOURCES;

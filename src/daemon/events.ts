/**
 * The daemon's `events` key → a source from the registry: `none`, `-` (read), `file:PATH`
 * (follow, resumed from its checkpoint), `k8s-logs`.
 */
import type { WindowAggregator } from '../aggregate/window-aggregator.ts';
import type { AggregatorState } from '../aggregate/aggregator-state.ts';
import { describeWindows } from '../aggregate/window-schedule.ts';
import { checkpointFileOf, type DaemonConfig } from '../config/daemon-config.ts';
import { parseSettings } from '../core/config-values.ts';
import { InputError } from '../core/input-error.ts';
import { CheckpointFile, CheckpointTracker } from '../pipeline/checkpoint.ts';
import { SOURCES } from '../sources/registry.ts';
import type { SourceComponent } from '../sources/source-component.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface OpenedEvents {
  input: SourceComponent | undefined;
  /** Saves checkpoints as batches are acknowledged (`file:` sources only). */
  checkpoint?: CheckpointTracker;
}

async function loadKubeConfig(options: { kubeconfig?: string; context?: string }) {
  const { loadKubeConfig: load } = await import('../enrich/metadata/kube-config.ts');
  return load(options);
}

/**
 * Opens `events`. A file resumes from its checkpoint: the follower at the saved offset
 * and `aggregator` with the saved open windows (it must not have taken anything yet).
 */
export async function openEvents(
  config: DaemonConfig,
  aggregator: WindowAggregator,
  signal: AbortSignal,
  log: Logger,
): Promise<OpenedEvents> {
  const events = config.events;
  if (events === 'none') return { input: undefined };
  const context = { log, signal };
  if (events === '-') {
    const read = SOURCES.read;
    return { input: await read.create(parseSettings(read.schema, { path: '-' }, '--events'), context) };
  }
  if (events === 'k8s-logs') {
    const k8s = SOURCES['k8s-logs'];
    return { input: await k8s.create(parseSettings(k8s.schema, config, '--events k8s-logs'), { ...context, loadKubeConfig }) };
  }
  const path = events.slice('file:'.length);
  const store = new CheckpointFile(checkpointFileOf(config));
  let saved = await store.load();
  if (saved && saved.path !== path) {
    log.warn(
      { checkpoint: store.file, checkpointPath: saved.path, path },
      'the checkpoint is of another events file; ignoring it and reading this one from its start',
    );
    saved = undefined;
  }
  if (saved) {
    if (describeWindows(saved.aggregator) !== aggregator.windowsDescription) {
      throw new InputError(
        `checkpoint ${store.file}: its open windows are ${describeWindows(saved.aggregator)}, but this run's are ${aggregator.windowsDescription}`,
        `restart once with ${windowFlagsOf(saved.aggregator)}, stop it with SIGTERM (which flushes the windows), then change the windows; or remove ${store.file} and lose the open windows`,
      );
    }
    aggregator.restore(saved.aggregator);
  }
  const follow = SOURCES.follow;
  const input = await follow.create(parseSettings(follow.schema, { path }, '--events'), {
    ...context,
    resumeFrom: saved?.position,
    checkpointFile: store.file,
  });
  const checkpoint = new CheckpointTracker(store, input.follower, aggregator, (err) =>
    log.warn(
      { checkpoint: store.file, err: (err as Error).message },
      'cannot save the checkpoint; a restart would re-read from the previous one. Is its directory writable (--checkpoint-file)?',
    ),
  );
  return { input, checkpoint };
}

function windowFlagsOf(state: AggregatorState): string {
  if (!state.dynamic) return `--window ${state.windowMs}ms`;
  const max = state.dynamic.rungs[state.dynamic.rungs.length - 1]!;
  return `--window dynamic --window-max ${max}ms`;
}

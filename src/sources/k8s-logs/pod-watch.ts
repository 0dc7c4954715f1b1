/**
 * The Tetragon pods, listed, then watched. A watch that ends or fails is replaced by a
 * new list rather than resumed at its resource version: a handful of pods make a list
 * cheap, and it also drops pods deleted while no watch was open. (The metadata store's
 * reflector, `kube/reflector.ts`, resumes instead: its lists are whole clusters.)
 */
import { Backoff, type BackoffOptions } from '../../core/backoff.ts';
import { sleep } from '../../core/sleep.ts';
import { readLines } from '../../kube/raw-http.ts';
import type { PodLogApi, PodObject, PodWatchEvent } from './pod-api.ts';

/** What the watch tells about the pods. */
export interface PodSet {
  /** A pod listed, added or changed. */
  seen(pod: PodObject): void;
  /** A pod deleted (by watch). */
  deleted(name: string, uid: string | undefined): void;
  /** After a list: any pod not in `names` is gone. */
  keepOnly(names: ReadonlySet<string>): void;
}

export interface PodWatchOptions {
  signal: AbortSignal;
  log: { warn(obj: object, msg: string): void };
  retry: BackoffOptions;
  /** True when `err` ends the source (401/403): the watch stops. */
  fatal(err: unknown): boolean;
}

export class PodWatch {
  private readonly backoff: Backoff;

  constructor(
    private readonly api: PodLogApi,
    private readonly pods: PodSet,
    private readonly options: PodWatchOptions,
  ) {
    this.backoff = new Backoff(options.retry);
  }

  /** Lists the pods once; returns the list's resource version. */
  async list(): Promise<string> {
    const body = await this.api.listPods(this.options.signal);
    const names = new Set<string>();
    for (const pod of body.items ?? []) {
      const name = pod.metadata?.name;
      if (!name) continue;
      names.add(name);
      this.pods.seen(pod);
    }
    this.pods.keepOnly(names);
    return body.metadata?.resourceVersion ?? '0';
  }

  /** Watches from `firstRv`, relisting after every end, until the signal aborts or a fatal error. */
  async run(firstRv: string): Promise<void> {
    const { signal, log } = this.options;
    let rv = firstRv;
    while (!signal.aborted) {
      try {
        const res = await this.api.watchPods(rv, signal);
        await readLines(res, (line) => {
          const ev = JSON.parse(line) as PodWatchEvent;
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.pods.seen(ev.object ?? {});
          else if (ev.type === 'DELETED') {
            const name = ev.object?.metadata?.name;
            if (name) this.pods.deleted(name, ev.object?.metadata?.uid);
          }
          this.backoff.reset();
        });
      } catch (err) {
        if (signal.aborted || this.options.fatal(err)) return;
        const retryMs = this.backoff.next();
        log.warn({ err: (err as Error).message, retryMs }, 'k8s-logs: watching the Tetragon pods failed; relisting');
        await sleep(retryMs, signal);
      }
      if (signal.aborted) return;
      try {
        rv = await this.list();
      } catch (err) {
        if (signal.aborted || this.options.fatal(err)) return;
        const retryMs = this.backoff.next();
        log.warn({ err: (err as Error).message, retryMs }, 'k8s-logs: listing the Tetragon pods failed; retrying');
        await sleep(retryMs, signal);
      }
    }
  }
}

/**
 * `--dnstap-connect HOST:PORT`: the reader dials CoreDNS instead of CoreDNS dialling it.
 * CoreDNS (1.14 and later) with `dnstap listen tcp://:PORT full` sends every message to
 * every connected reader, so each node's agent can have the whole stream: the agent
 * that attributes a workload's bytes is the one that needs that workload's answers.
 *
 * HOST may be a name with one address per CoreDNS pod (a headless Service); it is
 * resolved again every `refreshMs`, one connection is kept per address, and a lost
 * connection is dialled again at the next refresh.
 */
import { connect, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Logger } from '../../telemetry/logger.ts';
import { serveDnstapConnection, type AnswerLearner, type DnstapStats } from './dnstap-connection.ts';
import type { DnstapAddress } from './dnstap-address.ts';

export interface DnstapDialerOptions {
  address: DnstapAddress;
  cache: AnswerLearner;
  log: Logger;
  /** How often HOST is resolved again and lost connections redialled (default 5 s). */
  refreshMs?: number;
  /** The addresses of a host name (default: the system resolver, every address). */
  resolve?: (host: string) => Promise<string[]>;
}

/** Connections kept at most: each may hold a partial frame (up to 1 MiB). */
const MAX_TARGETS = 256;

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}

export class DnstapDialer {
  private readonly sockets = new Map<string, Socket>();
  private readonly counts: DnstapStats = { connections: 0, frames: 0, responses: 0, parseErrors: 0 };
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private lastResolveError: string | undefined;
  private warnedTargets = false;
  /** Targets whose last dial failed: logged once until they answer again. */
  private readonly failing = new Set<string>();

  constructor(private readonly options: DnstapDialerOptions) {
    this.timer = setInterval(() => void this.refresh(), options.refreshMs ?? 5000);
    this.timer.unref();
    void this.refresh();
  }

  stats(): DnstapStats {
    return { ...this.counts };
  }

  /** Addresses with an open connection (tests, logs). */
  get connected(): string[] {
    return [...this.sockets.keys()];
  }

  /** Resolves the target and dials every address without a connection. */
  refresh(): Promise<void> {
    this.refreshing ??= this.dialMissing().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async dialMissing(): Promise<void> {
    const a = this.options.address;
    let targets: string[];
    if (a.kind === 'unix') targets = [a.path];
    else {
      try {
        targets = await (this.options.resolve ?? systemResolve)(a.host);
        this.lastResolveError = undefined;
      } catch (err) {
        const message = (err as Error).message;
        // Once per outage, not every refresh.
        if (message !== this.lastResolveError)
          this.options.log.warn({ host: a.host, err: message }, 'dnstap: cannot resolve the --dnstap-connect host; retrying');
        this.lastResolveError = message;
        return;
      }
    }
    if (this.closed) return;
    if (targets.length > MAX_TARGETS && !this.warnedTargets) {
      this.warnedTargets = true;
      this.options.log.warn(
        { host: a.kind === 'tcp' ? a.host : a.path, addresses: targets.length, max: MAX_TARGETS },
        'dnstap: more addresses than connections kept; dialling the first ones',
      );
    }
    for (const target of targets.slice(0, MAX_TARGETS)) if (!this.sockets.has(target)) this.dial(target);
  }

  private dial(target: string): void {
    const a = this.options.address;
    const socket = a.kind === 'unix' ? connect(a.path) : connect({ host: target, port: a.port });
    const peer = a.kind === 'unix' ? a.path : target.includes(':') ? `[${target}]:${a.port}` : `${target}:${a.port}`;
    this.sockets.set(target, socket);
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      this.failing.delete(target);
      this.counts.connections++;
      serveDnstapConnection(socket, peer, this.options.cache, this.options.log, this.counts);
    });
    socket.on('error', (err) => {
      // A connection that never opened is logged here; an open one by serveDnstapConnection.
      if (!connected && !this.failing.has(target)) {
        this.failing.add(target);
        this.options.log.warn({ peer, err: err.message }, 'dnstap: cannot connect; retrying');
      }
    });
    socket.once('close', () => {
      if (this.sockets.get(target) === socket) this.sockets.delete(target);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.refreshing;
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
  }
}

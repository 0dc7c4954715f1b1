/**
 * `--dnstap-listen`: a Frame Streams server (TCP or a unix socket) for CoreDNS's dnstap
 * plugin (`dnstap tcp://…`), each connection served by dnstap-connection.ts.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import type { Logger } from '../../telemetry/logger.ts';
import { serveDnstapConnection, type AnswerLearner, type DnstapStats } from './dnstap-connection.ts';
import { DnstapAddressError, type DnstapAddress } from './dnstap-address.ts';

export type { DnstapStats };
export { DnstapAddressError, parseDnstapAddress, type DnstapAddress } from './dnstap-address.ts';

const MAX_CONNECTIONS = 256;

export interface DnstapListenerOptions {
  address: DnstapAddress;
  cache: AnswerLearner;
  log: Logger;
}

export class DnstapListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly counts: DnstapStats = { connections: 0, frames: 0, responses: 0, parseErrors: 0 };
  private boundPort: number | undefined;

  private constructor(private readonly options: DnstapListenerOptions) {
    this.server = createServer((socket) => this.accept(socket));
    // Each connection may hold one partial frame (up to 1 MiB); CoreDNS opens one per
    // replica and dnstap line, so this bounds memory without limiting real senders.
    this.server.maxConnections = MAX_CONNECTIONS;
  }

  static async listen(options: DnstapListenerOptions): Promise<DnstapListener> {
    const listener = new DnstapListener(options);
    await listener.start();
    return listener;
  }

  /** The TCP port listened on (the one chosen for port 0). */
  get port(): number | undefined {
    return this.boundPort;
  }

  stats(): DnstapStats {
    return { ...this.counts };
  }

  private async start(): Promise<void> {
    const a = this.options.address;
    if (a.kind === 'unix') await removeStaleSocket(a.path);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = a.kind === 'tcp' ? `${a.host}:${a.port}` : a.path;
        reject(
          new DnstapAddressError(
            `${where}: cannot listen: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another process has that address)' : ''}`,
          ),
        );
      };
      this.server.once('error', onError);
      const listening = (): void => {
        this.server.off('error', onError);
        // After startup a server error (none is expected) is logged, never thrown.
        this.server.on('error', (err) => this.options.log.error({ err: err.message }, 'dnstap listener error'));
        resolve();
      };
      if (a.kind === 'tcp') this.server.listen(a.port, a.host, listening);
      else this.server.listen(a.path, listening);
    });
    const bound = this.server.address();
    if (bound && typeof bound === 'object') this.boundPort = bound.port;
  }

  private accept(socket: Socket): void {
    this.counts.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix socket';
    serveDnstapConnection(socket, peer, this.options.cache, this.options.log, this.counts);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    const a = this.options.address;
    if (a.kind === 'unix') await unlink(a.path).catch(() => undefined);
  }
}

/** A socket file left by a killed daemon would make listen fail with EADDRINUSE. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (!st.isSocket()) throw new DnstapAddressError(`${path}: exists and is not a socket`);
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

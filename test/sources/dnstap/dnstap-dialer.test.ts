/**
 * --dnstap-connect: the dialer keeps one connection to every address its host resolves
 * to, receives as the listener does, and dials again what went away. The senders here
 * speak as CoreDNS's `dnstap listen` does (golang-framestream's bidirectional writer:
 * READY, then START after ACCEPT).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { DnsNameCache } from '../../../src/enrich/dns/dns-name-cache.ts';
import { DnstapDialer } from '../../../src/sources/dnstap/dnstap-dialer.ts';
import { encodeDnstapResponse } from '../../../src/sources/dnstap/dnstap-message.ts';
import { ControlType, DNSTAP_CONTENT_TYPE, encodeControl, encodeData } from '../../../src/sources/dnstap/frame-stream.ts';
import { waitFor } from '../../support/wait.ts';

const AT = Date.UTC(2024, 4, 1, 12, 0, 0);

function answerFrame(name: string, address: string): Buffer {
  return encodeData(
    encodeDnstapResponse({
      atMs: AT,
      message: dnsPacket.encode({
        type: 'response',
        questions: [{ type: 'A', name }],
        answers: [{ type: 'A', name, ttl: 30, data: address }],
      }),
    }),
  );
}

/** A reader-facing sender: on each connection, the handshake, then what `send` writes. */
class FakeCoreDns {
  readonly clients = new Set<Socket>();
  private constructor(readonly server: Server) {}

  static async start(host: string, port = 0): Promise<FakeCoreDns> {
    const server = createServer();
    const fake = new FakeCoreDns(server);
    server.on('connection', (s) => {
      s.on('error', () => undefined);
      s.write(encodeControl(ControlType.READY, [DNSTAP_CONTENT_TYPE]));
      // ACCEPT comes back; then START, and the client may receive.
      s.once('data', () => {
        s.write(encodeControl(ControlType.START, [DNSTAP_CONTENT_TYPE]));
        fake.clients.add(s);
      });
      s.on('close', () => fake.clients.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, host, () => r()));
    return fake;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  send(frame: Buffer): void {
    for (const c of this.clients) c.write(frame);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return waitFor(what, cond, timeoutMs);
}

describe('DnstapDialer', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('connects to every address of the host, learns from each, and redials one that went away', async () => {
    const a = await FakeCoreDns.start('127.0.0.1');
    stops.push(() => a.stop());
    // Two CoreDNS pods behind one name: the same port on two loopback addresses.
    let b = await FakeCoreDns.start('127.0.0.2', a.port);
    stops.push(() => b.stop());
    const cache = new DnsNameCache({ max: 100, graceMs: 0 });
    const dialer = new DnstapDialer({
      address: { kind: 'tcp', host: 'coredns-dnstap.kube-system.svc', port: a.port },
      cache,
      log: pino({ level: 'silent' }),
      refreshMs: 100,
      resolve: async (host) => (host === 'coredns-dnstap.kube-system.svc' ? ['127.0.0.1', '127.0.0.2'] : []),
    });
    stops.push(() => dialer.close());
    await until(() => a.clients.size === 1 && b.clients.size === 1, 'a connection to each address');
    a.send(answerFrame('one.example', '192.0.2.1'));
    b.send(answerFrame('two.example', '192.0.2.2'));
    await until(() => cache.stats().answers === 2, 'both answers');
    expect(cache.nameAt('192.0.2.1', AT)?.asked).toBe('one.example');
    expect(cache.nameAt('192.0.2.2', AT)?.asked).toBe('two.example');

    // One pod restarts: the dialer connects to it again.
    await b.stop();
    b = await FakeCoreDns.start('127.0.0.2', a.port);
    await until(() => b.clients.size === 1, 'the redial');
    b.send(answerFrame('three.example', '192.0.2.3'));
    await until(() => cache.nameAt('192.0.2.3', AT) !== undefined, 'the answer after the redial');
    expect(dialer.stats()).toMatchObject({ connections: 3, frames: 3, parseErrors: 0 });
    expect(a.clients.size).toBe(1);
  });

  it('retries a host that does not resolve yet, logging it once', async () => {
    const lines: string[] = [];
    let resolvable = false;
    let attempts = 0;
    const a = await FakeCoreDns.start('127.0.0.1');
    stops.push(() => a.stop());
    const dialer = new DnstapDialer({
      address: { kind: 'tcp', host: 'later.example', port: a.port },
      cache: new DnsNameCache({ max: 10, graceMs: 0 }),
      log: pino({ level: 'info' }, { write: (s: string) => void lines.push(s) }),
      refreshMs: 50,
      resolve: async () => {
        attempts++;
        if (!resolvable) throw new Error('getaddrinfo ENOTFOUND later.example');
        return ['127.0.0.1'];
      },
    });
    stops.push(() => dialer.close());
    await until(() => lines.length > 0, 'the first failure');
    const failed = attempts;
    await until(() => attempts >= failed + 3, 'three more failed resolutions');
    expect(lines.filter((l) => l.includes('cannot resolve'))).toHaveLength(1);
    resolvable = true;
    await until(() => a.clients.size === 1, 'the connection once it resolves');
  });
});

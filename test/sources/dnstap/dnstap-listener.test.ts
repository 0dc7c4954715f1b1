/**
 * The dnstap listener on real sockets: a well-behaved sender's answers reach the cache;
 * garbage, truncated frames and undecodable messages close only that connection, are
 * counted and logged, and the listener keeps serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { DnsNameCache } from '../../../src/enrich/dns/dns-name-cache.ts';
import { DnstapListener, parseDnstapAddress, type DnstapAddress } from '../../../src/sources/dnstap/dnstap-listener.ts';
import { encodeDnstapResponse } from '../../../src/sources/dnstap/dnstap-message.ts';
import { ControlType, DNSTAP_CONTENT_TYPE, encodeControl, encodeData } from '../../../src/sources/dnstap/frame-stream.ts';
import { waitFor } from '../../support/wait.ts';

const AT = Date.UTC(2024, 4, 1, 12, 0, 0);

function answer(name: string, address: string): Uint8Array {
  return encodeDnstapResponse({
    atMs: AT,
    message: dnsPacket.encode({
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name }],
      answers: [{ type: 'A', name, ttl: 30, data: address }],
    }),
  });
}

function logLines(): { log: pino.Logger; lines: () => string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  return { log, lines: () => lines };
}

function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  return waitFor(what, cond, timeoutMs);
}

function dial(a: DnstapAddress, port: number | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = a.kind === 'tcp' ? connect(port!, '127.0.0.1') : connect(a.path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends `bytes` and resolves when the listener closes the connection. */
function sendUntilClosed(s: Socket, bytes: Buffer, end = false): Promise<Buffer> {
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.on('error', () => undefined);
  const closed = new Promise<Buffer>((r) => s.once('close', () => r(Buffer.concat(got))));
  s.write(bytes);
  if (end) s.end();
  return closed;
}

describe('DnstapListener', () => {
  let listener: DnstapListener | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await listener?.close();
    listener = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('parses TCP and unix socket addresses as CoreDNS spells them', () => {
    expect(parseDnstapAddress(':6000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 6000 });
    expect(parseDnstapAddress('127.0.0.1:6000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6000 });
    expect(parseDnstapAddress('tcp://[::1]:6000')).toEqual({ kind: 'tcp', host: '::1', port: 6000 });
    expect(parseDnstapAddress('/run/kovenant/dnstap.sock')).toEqual({ kind: 'unix', path: '/run/kovenant/dnstap.sock' });
    expect(parseDnstapAddress('unix:///tmp/d.sock')).toEqual({ kind: 'unix', path: '/tmp/d.sock' });
    expect(() => parseDnstapAddress('localhost')).toThrow(/expected HOST:PORT or a socket path/);
    expect(() => parseDnstapAddress(':99999')).toThrow(/expected HOST:PORT/);
  });

  for (const kind of ['tcp', 'unix'] as const) {
    it(`learns the answers of a bidirectional sender over ${kind} and answers its handshake`, async () => {
      dir = await mkdtemp(join(tmpdir(), 'kovenant-dnstap-'));
      const address: DnstapAddress = kind === 'tcp' ? { kind, host: '127.0.0.1', port: 0 } : { kind, path: join(dir, 'dnstap.sock') };
      const cache = new DnsNameCache({ max: 100, graceMs: 0 });
      listener = await DnstapListener.listen({ address, cache, log: logLines().log });
      const s = await dial(address, listener.port);
      const replies = sendUntilClosed(
        s,
        Buffer.concat([
          encodeControl(ControlType.READY, [DNSTAP_CONTENT_TYPE]),
          encodeControl(ControlType.START, [DNSTAP_CONTENT_TYPE]),
          encodeData(answer('s3.eu-west-1.amazonaws.com', '52.216.1.2')),
          encodeData(answer('api.example.com', '192.0.2.10')),
          encodeControl(ControlType.STOP),
        ]),
      );
      expect(await replies).toEqual(
        Buffer.concat([encodeControl(ControlType.ACCEPT, [DNSTAP_CONTENT_TYPE]), encodeControl(ControlType.FINISH)]),
      );
      expect(cache.nameAt('52.216.1.2', AT)?.asked).toBe('s3.eu-west-1.amazonaws.com');
      expect(cache.nameAt('192.0.2.10', AT + 1000)?.asked).toBe('api.example.com');
      expect(listener.stats()).toEqual({ connections: 1, frames: 2, responses: 2, parseErrors: 0 });
    });
  }

  it('replaces a stale unix socket file and refuses a path that is not a socket', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kovenant-dnstap-'));
    const path = join(dir, 'd.sock');
    // A daemon killed while listening leaves its socket file behind.
    const killed = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => killed.stdout!.once('data', r));
    killed.kill('SIGKILL');
    await new Promise((r) => killed.once('exit', r));
    expect((await lstat(path)).isSocket()).toBe(true);
    listener = await DnstapListener.listen({
      address: { kind: 'unix', path },
      cache: new DnsNameCache({ max: 1, graceMs: 0 }),
      log: logLines().log,
    });
    const plain = join(dir, 'plain');
    await writeFile(plain, 'x');
    await expect(
      DnstapListener.listen({
        address: { kind: 'unix', path: plain },
        cache: new DnsNameCache({ max: 1, graceMs: 0 }),
        log: logLines().log,
      }),
    ).rejects.toThrow(/exists and is not a socket/);
  });

  it('closes a connection that sends garbage, a truncated frame or an undecodable message, counts and logs each, and keeps serving', async () => {
    const cache = new DnsNameCache({ max: 100, graceMs: 0 });
    const { log, lines } = logLines();
    const address: DnstapAddress = { kind: 'tcp', host: '127.0.0.1', port: 0 };
    listener = await DnstapListener.listen({ address, cache, log });
    const start = Buffer.concat([
      encodeControl(ControlType.READY, [DNSTAP_CONTENT_TYPE]),
      encodeControl(ControlType.START, [DNSTAP_CONTENT_TYPE]),
    ]);

    // Garbage: an impossible control frame length.
    await sendUntilClosed(await dial(address, listener.port), Buffer.from('GET / HTTP/1.1\r\n\r\n\0\0\0\0\xff\xff\xff\xff'));
    // A truncated frame: the sender goes away in the middle of a data frame.
    const truncated = encodeData(answer('a.example', '192.0.2.1')).subarray(0, 20);
    await sendUntilClosed(await dial(address, listener.port), Buffer.concat([start, truncated]), true);
    // A whole frame that is not dnstap protobuf.
    await sendUntilClosed(await dial(address, listener.port), Buffer.concat([start, encodeData(Buffer.from([0xff, 0xff, 0xff, 0xff]))]));
    // A dnstap frame whose DNS message is cut short.
    const badDns = encodeDnstapResponse({ atMs: AT, message: Uint8Array.from([0, 1, 0x81, 0x80, 0, 1, 0, 1]) });
    await sendUntilClosed(await dial(address, listener.port), Buffer.concat([start, encodeData(badDns)]));

    await until(() => listener!.stats().parseErrors === 4, 'four parse errors');
    const warnings = lines().filter((l) => l.includes('malformed input'));
    expect(warnings).toHaveLength(4);
    expect(warnings.join('\n')).toMatch(/data frame of 1195725856 bytes/);
    expect(warnings.join('\n')).toMatch(/connection closed inside a frame/);
    expect(warnings.join('\n')).toMatch(/not a dnstap message/);
    expect(warnings.join('\n')).toMatch(/not a DNS message/);

    // Still serving: a good sender after the bad ones is heard.
    const good = await dial(address, listener.port);
    await sendUntilClosed(good, Buffer.concat([start, encodeData(answer('ok.example', '192.0.2.99')), encodeControl(ControlType.STOP)]));
    expect(cache.nameAt('192.0.2.99', AT)?.asked).toBe('ok.example');
    expect(listener.stats().connections).toBe(5);
  });

  it('keeps the cache at its bound under a flood of answers, counting evictions', async () => {
    const cache = new DnsNameCache({ max: 1000, graceMs: 0 });
    const address: DnstapAddress = { kind: 'tcp', host: '127.0.0.1', port: 0 };
    listener = await DnstapListener.listen({ address, cache, log: logLines().log });
    const frames: Buffer[] = [];
    for (let i = 0; i < 20_000; i++)
      frames.push(encodeData(answer(`h${i}.flood.example`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)));
    const s = await dial(address, listener.port);
    await sendUntilClosed(s, Buffer.concat([encodeControl(ControlType.START), ...frames, encodeControl(ControlType.STOP)]));
    expect(cache.stats()).toMatchObject({ size: 1000, max: 1000, answers: 20_000, evictions: 19_000 });
    // The newest answers are the ones kept.
    expect(cache.nameAt('10.0.78.31', AT)?.asked).toBe('h19999.flood.example');
    expect(cache.nameAt('10.0.0.0', AT)).toBeUndefined();
  });
});

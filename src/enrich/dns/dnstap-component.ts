/**
 * `--dnstap-listen`, `--dnstap-connect`, `--dns-cache-max`, `--dns-grace`: the DNS name
 * cache and the dnstap receivers that fill it, as one component (core/component.ts). It
 * lives in enrich/, not sources/: what it receives is not events for the flow but names
 * for the resolver, and it owns the cache the resolver reads (`cache`).
 */
import * as z from 'zod';
import type { Component, ComponentContext, ComponentFactory } from '../../core/component.ts';
import { durationMs, positiveInt } from '../../core/config-values.ts';
import { InputError } from '../../core/input-error.ts';
import type { DnstapDialer } from '../../sources/dnstap/dnstap-dialer.ts';
import type { DnstapListener } from '../../sources/dnstap/dnstap-listener.ts';
import { DnstapAddressError, parseDnstapAddress, type DnstapAddress } from '../../sources/dnstap/dnstap-address.ts';
import { DnsNameCache } from './dns-name-cache.ts';

const LISTEN_HINT = 'give HOST:PORT (e.g. :6000, 127.0.0.1:6000) or a unix socket path (e.g. /run/kovenant/dnstap.sock)';
const CONNECT_HINT = "give HOST:PORT of CoreDNS's `dnstap listen` (e.g. coredns-dnstap.kube-system.svc:6001) or a unix socket path";

/** A dnstap address, checked when the settings are parsed: before anything is opened. */
function address(flag: '--dnstap-listen' | '--dnstap-connect') {
  return z.string().transform((text): DnstapAddress & { text: string } => {
    try {
      const a = parseDnstapAddress(text);
      if (flag === '--dnstap-connect' && a.kind === 'tcp' && (a.host === '0.0.0.0' || a.host === '::'))
        throw new DnstapAddressError(`${text}: needs the host to dial`);
      return { ...a, text };
    } catch (err) {
      throw new InputError(`${flag} ${(err as Error).message}`, flag === '--dnstap-connect' ? CONNECT_HINT : LISTEN_HINT);
    }
  });
}

const schema = z.object({
  dnstapListen: address('--dnstap-listen').optional(),
  dnstapConnect: address('--dnstap-connect').optional(),
  /** Addresses the cache keeps at most. */
  dnsCacheMax: positiveInt('--dns-cache-max').default(100_000),
  /** How long past its TTL an answer still names its address. */
  dnsGrace: durationMs('--dns-grace').default(5 * 60_000),
});

export interface DnstapComponent extends Component {
  /** What the resolver reads (`remote_dns`). */
  readonly cache: DnsNameCache;
  /** The receivers' totals and the cache's: `connections`, `frames`, `responses`, `parseErrors`, `cache.size`, `cache.evictions`, `cache.hits`, `cache.misses`, ... */
  stats(): Record<string, number>;
}

export interface DnstapFactory extends ComponentFactory<typeof schema, ComponentContext, DnstapComponent> {
  /** On when --dnstap-listen or --dnstap-connect is given. */
  enabled(config: z.output<typeof schema>): boolean;
}

export const dnstapReceiver: DnstapFactory = {
  kind: 'enricher',
  name: 'dnstap',
  description: "CoreDNS's answers over dnstap (listening, dialling, or both) into the DNS name cache: external peers gain a remote_dns tag",
  schema,
  enabled: (config) => config.dnstapListen !== undefined || config.dnstapConnect !== undefined,
  async create(config, { log }) {
    const cache = new DnsNameCache({ max: config.dnsCacheMax, graceMs: config.dnsGrace });
    let listener: DnstapListener | undefined;
    if (config.dnstapListen !== undefined) {
      // Loaded when used: protobufjs and dns-packet cost start-up time to every command.
      const { DnstapListener } = await import('../../sources/dnstap/dnstap-listener.ts');
      try {
        listener = await DnstapListener.listen({ address: config.dnstapListen, cache, log });
      } catch (err) {
        if (err instanceof DnstapAddressError) throw new InputError(`--dnstap-listen ${err.message}`, LISTEN_HINT);
        throw err;
      }
      log.info(
        { addr: config.dnstapListen.text, port: listener.port, cacheMax: config.dnsCacheMax, graceMs: config.dnsGrace },
        'dnstap listening',
      );
    }
    let dialer: DnstapDialer | undefined;
    if (config.dnstapConnect !== undefined) {
      const { DnstapDialer } = await import('../../sources/dnstap/dnstap-dialer.ts');
      dialer = new DnstapDialer({ address: config.dnstapConnect, cache, log });
      log.info({ addr: config.dnstapConnect.text, cacheMax: config.dnsCacheMax, graceMs: config.dnsGrace }, 'dnstap connecting');
    }
    return {
      cache,
      stats() {
        const a = listener?.stats();
        const b = dialer?.stats();
        const out: Record<string, number> = {
          connections: (a?.connections ?? 0) + (b?.connections ?? 0),
          frames: (a?.frames ?? 0) + (b?.frames ?? 0),
          responses: (a?.responses ?? 0) + (b?.responses ?? 0),
          parseErrors: (a?.parseErrors ?? 0) + (b?.parseErrors ?? 0),
        };
        for (const [k, v] of Object.entries(cache.stats())) out[`cache.${k}`] = v;
        return out;
      },
      async close() {
        await Promise.all([listener?.close(), dialer?.close()]);
      },
    };
  },
};

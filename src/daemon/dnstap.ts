/**
 * `--dnstap-listen`, `--dnstap-connect`, `--dns-cache-max`, `--dns-grace`: the DNS name
 * cache and what feeds it.
 */
import type { Logger } from '../telemetry/logger.ts';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { DnsNameCache } from '../enrich/dns/dns-name-cache.ts';
import type { DnstapStats } from '../sources/dnstap/dnstap-connection.ts';
import { DnstapDialer } from '../sources/dnstap/dnstap-dialer.ts';
import { DnstapAddressError, DnstapListener, parseDnstapAddress, type DnstapAddress } from '../sources/dnstap/dnstap-listener.ts';
import { parseDuration } from '../core/duration.ts';
import { InputError } from '../core/input-error.ts';

const HINT = 'give HOST:PORT (e.g. :6000, 127.0.0.1:6000) or a unix socket path (e.g. /run/kovenant/dnstap.sock)';

function addressOf(flag: string, text: string): DnstapAddress {
  try {
    const address = parseDnstapAddress(text);
    if (flag === '--dnstap-connect' && address.kind === 'tcp' && (address.host === '0.0.0.0' || address.host === '::')) {
      throw new DnstapAddressError(`${text}: needs the host to dial`);
    }
    return address;
  } catch (err) {
    throw new InputError(`${flag} ${(err as Error).message}`, flag === '--dnstap-connect' ? 'give HOST:PORT of CoreDNS\'s `dnstap listen` (e.g. coredns-dnstap.kube-system.svc:6001) or a unix socket path' : HINT);
  }
}

/** The cache when --dnstap-listen or --dnstap-connect is given (checked before anything is opened). */
export function dnsCacheOf(config: DaemonConfig): DnsNameCache | undefined {
  if (config.dnstapListen === undefined && config.dnstapConnect === undefined) return undefined;
  if (config.dnstapListen !== undefined) addressOf('--dnstap-listen', config.dnstapListen);
  if (config.dnstapConnect !== undefined) addressOf('--dnstap-connect', config.dnstapConnect);
  return new DnsNameCache({ max: config.dnsCacheMax, graceMs: parseDuration(config.dnsGrace, '--dns-grace') });
}

/** The receiving ends, together. */
export interface DnstapFeeds {
  stats(): DnstapStats;
  close(): Promise<void>;
}

export async function openDnstap(config: DaemonConfig, cache: DnsNameCache, log: Logger): Promise<DnstapFeeds> {
  let listener: DnstapListener | undefined;
  if (config.dnstapListen !== undefined) {
    try {
      listener = await DnstapListener.listen({ address: addressOf('--dnstap-listen', config.dnstapListen), cache, log });
    } catch (err) {
      if (err instanceof DnstapAddressError) throw new InputError(`--dnstap-listen ${err.message}`, HINT);
      throw err;
    }
    log.info({ addr: config.dnstapListen, port: listener.port, cacheMax: config.dnsCacheMax, grace: config.dnsGrace }, 'dnstap listening');
  }
  let dialer: DnstapDialer | undefined;
  if (config.dnstapConnect !== undefined) {
    dialer = new DnstapDialer({ address: addressOf('--dnstap-connect', config.dnstapConnect), cache, log });
    log.info({ addr: config.dnstapConnect, cacheMax: config.dnsCacheMax, grace: config.dnsGrace }, 'dnstap connecting');
  }
  return {
    stats() {
      const a = listener?.stats();
      const b = dialer?.stats();
      return {
        connections: (a?.connections ?? 0) + (b?.connections ?? 0),
        frames: (a?.frames ?? 0) + (b?.frames ?? 0),
        responses: (a?.responses ?? 0) + (b?.responses ?? 0),
        parseErrors: (a?.parseErrors ?? 0) + (b?.parseErrors ?? 0),
      };
    },
    async close() {
      await Promise.all([listener?.close(), dialer?.close()]);
    },
  };
}

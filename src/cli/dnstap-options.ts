/** `--dnstap-listen`, `--dns-cache-max`, `--dns-grace`: the DNS name cache and its receiver. */
import type { Logger } from 'pino';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { DnsNameCache } from '../enrich/dns/dns-name-cache.ts';
import { DnstapAddressError, DnstapListener, parseDnstapAddress } from '../sources/dnstap/dnstap-listener.ts';
import { parseDuration } from './duration.ts';
import { InputError } from './input-error.ts';

const HINT = 'give HOST:PORT (e.g. :6000, 127.0.0.1:6000) or a unix socket path (e.g. /run/kovenant/dnstap.sock)';

/** The cache when --dnstap-listen is given (checked before anything is opened). */
export function dnsCacheOf(config: DaemonConfig): DnsNameCache | undefined {
  if (config.dnstapListen === undefined) return undefined;
  try {
    parseDnstapAddress(config.dnstapListen);
  } catch (err) {
    throw new InputError(`--dnstap-listen ${(err as Error).message}`, HINT);
  }
  return new DnsNameCache({ max: config.dnsCacheMax, graceMs: parseDuration(config.dnsGrace, '--dns-grace') });
}

export async function listenDnstap(config: DaemonConfig, cache: DnsNameCache, log: Logger): Promise<DnstapListener> {
  const address = parseDnstapAddress(config.dnstapListen ?? '');
  try {
    const listener = await DnstapListener.listen({ address, cache, log });
    log.info({ addr: config.dnstapListen, port: listener.port, cacheMax: config.dnsCacheMax, grace: config.dnsGrace }, 'dnstap listening');
    return listener;
  } catch (err) {
    if (err instanceof DnstapAddressError) throw new InputError(`--dnstap-listen ${err.message}`, HINT);
    throw err;
  }
}

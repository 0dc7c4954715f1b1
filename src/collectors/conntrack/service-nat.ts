/**
 * Service NAT seen in the conntrack table: a TCP flow whose reply comes from another
 * address than the original destination was DNATed (kube-proxy's Service rules), and
 * its reply source is the backend the kernel chose for that socket. The resolver joins a
 * tcp event's 4-tuple to the original tuple here (see Resolver.remoteOfSocket).
 *
 * Rebuilt from every scan, so it holds exactly the table's current NATed flows: bounded
 * by the table (nf_conntrack_max), and an entry gone from the table is gone here.
 */
import type { ServiceNatLookup } from '../../enrich/resolver.ts';
import type { ConntrackFlow } from './conntrack-table.ts';

function tupleKey(src: string, sport: number, dst: string, dport: number): string {
  return `${src} ${sport} ${dst} ${dport}`;
}

export class ConntrackServiceNat implements ServiceNatLookup {
  private backends = new Map<string, string>();

  /** Replaces what is known with the NATed TCP flows of one scan. */
  update(flows: readonly ConntrackFlow[]): void {
    const next = new Map<string, string>();
    for (const f of flows) {
      if (f.protocol !== 'tcp' || f.originSport === undefined || f.originDport === undefined || f.replySrc === f.originDst) continue;
      next.set(tupleKey(f.originSrc, f.originSport, f.originDst, f.originDport), f.replySrc);
    }
    this.backends = next;
  }

  backendOf(localIp: string, localPort: number, serviceIp: string, servicePort: number): string | undefined {
    if (this.backends.size === 0) return undefined;
    return this.backends.get(tupleKey(localIp, localPort, serviceIp, servicePort));
  }

  get size(): number {
    return this.backends.size;
  }
}

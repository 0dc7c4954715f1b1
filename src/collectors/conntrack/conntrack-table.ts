/**
 * `/proc/net/nf_conntrack` lines → flows. One line per connection:
 *
 *   ipv4 2 tcp 6 119 TIME_WAIT src=A dst=B sport=P dport=Q packets=11 bytes=100580
 *     src=B dst=A sport=Q dport=P packets=8 bytes=5424 [ASSURED] mark=0 zone=0 use=2
 *
 * The first `src=…` group is the original direction (who opened the flow), the second
 * the reply direction (after NAT: the reply source is whoever really answered, e.g. the
 * pod behind a Service ClusterIP). `packets=`/`bytes=` appear only with
 * `net.netfilter.nf_conntrack_acct=1`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/input-error.ts';
import { normalizeIp } from '../../core/ip-address.ts';

export interface ConntrackFlow {
  /** Identity across scans: protocol, original tuple and zone. */
  key: string;
  protocol: string;
  /** TCP state (ESTABLISHED, TIME_WAIT, …); undefined for protocols without one. */
  state: string | undefined;
  originSrc: string;
  originDst: string;
  /** Original source and destination ports (undefined for ICMP and the like). */
  originSport: number | undefined;
  originDport: number | undefined;
  replySrc: string;
  /** undefined when accounting is off. */
  originPackets: number | undefined;
  originBytes: number | undefined;
  replyPackets: number | undefined;
  replyBytes: number | undefined;
  zone: string;
}

interface Direction {
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  packets?: number;
  bytes?: number;
}

/** One line, or undefined when it is not a conntrack entry we can use. */
export function parseConntrackLine(line: string): ConntrackFlow | undefined {
  const words = line.trim().split(/\s+/);
  // l3 name, l3 number, l4 name, l4 number, timeout, then state or key=value words.
  if (words.length < 6) return undefined;
  const protocol = words[2]!;
  let i = 5;
  let state: string | undefined;
  if (!words[i]!.includes('=') && !words[i]!.startsWith('[')) state = words[i++];
  const dirs: Direction[] = [];
  let zone = '0';
  for (; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.indexOf('=');
    if (eq < 0) continue;
    const k = w.slice(0, eq);
    const v = w.slice(eq + 1);
    // A `src=` opens the next direction; everything up to the next one belongs to it.
    if (k === 'src') dirs.push({});
    const d = dirs[dirs.length - 1];
    switch (k) {
      case 'src':
      case 'dst':
      case 'sport':
      case 'dport':
        if (d) d[k] = v;
        break;
      case 'packets':
      case 'bytes':
        if (d) d[k] = Number(v);
        break;
      case 'zone':
        zone = v;
        break;
    }
  }
  const [orig, reply] = dirs;
  if (!orig?.src || !orig.dst || !reply?.src) return undefined;
  const originSrc = normalizeIp(orig.src) ?? orig.src;
  const originDst = normalizeIp(orig.dst) ?? orig.dst;
  return {
    key: `${protocol} ${originSrc} ${orig.sport ?? ''} ${originDst} ${orig.dport ?? ''} ${zone}`,
    protocol,
    state,
    originSrc,
    originDst,
    originSport: orig.sport === undefined ? undefined : Number(orig.sport),
    originDport: orig.dport === undefined ? undefined : Number(orig.dport),
    replySrc: normalizeIp(reply.src) ?? reply.src,
    originPackets: orig.packets,
    originBytes: orig.bytes,
    replyPackets: reply.packets,
    replyBytes: reply.bytes,
    zone,
  };
}

export function parseConntrackTable(text: string): ConntrackFlow[] {
  const out: ConntrackFlow[] = [];
  for (const line of text.split('\n')) {
    const flow = parseConntrackLine(line);
    if (flow) out.push(flow);
  }
  return out;
}

/** An InputError so the CLI exits 2 with the fix as its hint. */
export class ConntrackAccountingError extends InputError {
  constructor(sysctlPath: string) {
    super(
      `conntrack collector: conntrack accounting is off (${sysctlPath} is 0), so the conntrack table has no byte counters`,
      'enable it on the node with `sysctl -w net.netfilter.nf_conntrack_acct=1` (it is per network namespace; ' +
        'persist it in /etc/sysctl.d/), or turn the conntrack collector off',
    );
    this.name = 'ConntrackAccountingError';
  }
}

/** Where the table and the accounting switch live under a proc root (the host's `/proc` from a container). */
export function conntrackPaths(procRoot: string): { table: string; acct: string } {
  return { table: join(procRoot, 'net/nf_conntrack'), acct: join(procRoot, 'sys/net/netfilter/nf_conntrack_acct') };
}

/** Refuses (with how to fix it) when accounting is off: without it every delta would be 0. */
export async function requireAccounting(procRoot: string): Promise<void> {
  const { acct, table } = conntrackPaths(procRoot);
  let value: string;
  try {
    value = (await readFile(acct, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `conntrack collector: ${acct}: cannot read (${code ?? (err as Error).message})`,
      `is nf_conntrack loaded? ${table} appears once a conntrack rule exists (e.g. an nftables "ct state" rule); point the proc root at the host's /proc when in a container`,
    );
  }
  if (value !== '1') throw new ConntrackAccountingError(acct);
}

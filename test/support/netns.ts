/**
 * A miniature node for real-kernel tests: "pods" are network namespaces, each with a
 * veth pair into a "node" namespace that routes between them and runs conntrack (an
 * nftables forward rule with `ct state`, accounting on). Addresses live only inside
 * these namespaces; names are unique per run so parallel runs never collide.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export const IP = '/usr/sbin/ip';
export const NFT = '/usr/sbin/nft';

/** Root and the tools: without them the real-kernel tests cannot run (a failure in CI). */
export function canUseNetns(): boolean {
  const ok = process.getuid?.() === 0 && existsSync(IP) && existsSync(NFT);
  if (!ok && process.env.CI) throw new Error('real-kernel tests need root, ip (iproute2) and nft (nftables)');
  return ok;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface PodNamespace {
  ns: string;
  ip: string;
}

export interface NodeLab {
  id: string;
  node: string;
  /** The node namespace's addresses (one per pod link). */
  nodeIps: string[];
  pods: PodNamespace[];
  /** argv prefix that runs a command inside a namespace. */
  inNs(ns: string, argv: string[]): string[];
  /** Starts a process inside a namespace (stopped by destroy if still running). */
  spawnIn(ns: string, argv: string[]): ChildProcess;
  destroy(): void;
}

export interface LabOptions {
  pods: number;
  /** Turn conntrack accounting on in the node namespace (default true). */
  accounting?: boolean;
  /** Install the nftables `ct state` rule that makes the kernel track flows (default true). */
  conntrackRule?: boolean;
}

export function createNodeLab(options: LabOptions): NodeLab {
  const id = `k${randomBytes(3).toString('hex')}`;
  const node = `${id}-node`;
  const created: string[] = [];
  const children: ChildProcess[] = [];
  const subnet = 10 + (randomBytes(1)[0]! % 200);
  const lab: NodeLab = {
    id,
    node,
    nodeIps: [],
    pods: [],
    inNs: (ns, argv) => [IP, 'netns', 'exec', ns, ...argv],
    spawnIn(ns, argv) {
      const child = spawn(IP, ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    destroy() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const ns of created.reverse()) {
        try {
          run(IP, ['netns', 'del', ns]);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    run(IP, ['netns', 'add', node]);
    created.push(node);
    run(IP, ['-n', node, 'link', 'set', 'lo', 'up']);
    for (let i = 1; i <= options.pods; i++) {
      const ns = `${id}-p${i}`;
      run(IP, ['netns', 'add', ns]);
      created.push(ns);
      const podIf = `${id}p${i}`;
      const nodeIf = `${id}n${i}`;
      const podIp = `10.${subnet}.${i}.2`;
      const nodeIp = `10.${subnet}.${i}.1`;
      run(IP, ['link', 'add', podIf, 'netns', ns, 'type', 'veth', 'peer', 'name', nodeIf, 'netns', node]);
      run(IP, ['-n', ns, 'addr', 'add', `${podIp}/24`, 'dev', podIf]);
      run(IP, ['-n', ns, 'link', 'set', podIf, 'up']);
      run(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
      run(IP, ['-n', ns, 'route', 'add', 'default', 'via', nodeIp]);
      run(IP, ['-n', node, 'addr', 'add', `${nodeIp}/24`, 'dev', nodeIf]);
      run(IP, ['-n', node, 'link', 'set', nodeIf, 'up']);
      lab.pods.push({ ns, ip: podIp });
      lab.nodeIps.push(nodeIp);
    }
    run(IP, ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    if (options.conntrackRule !== false) {
      const nft = (...args: string[]): string => run(IP, ['netns', 'exec', node, NFT, ...args]);
      nft('add', 'table', 'inet', 'kovenant_lab');
      nft('add', 'chain', 'inet', 'kovenant_lab', 'lab_forward', '{ type filter hook forward priority 0; policy accept; }');
      nft('add', 'rule', 'inet', 'kovenant_lab', 'lab_forward', 'ct', 'state', 'established,related,new', 'accept');
    }
    // Per network namespace: a new namespace starts with accounting off.
    run(IP, ['netns', 'exec', node, 'sysctl', '-qw', `net.netfilter.nf_conntrack_acct=${options.accounting === false ? 0 : 1}`]);
  } catch (err) {
    lab.destroy();
    throw err;
  }
  return lab;
}

/**
 * A DNAT rule in the node namespace standing in for kube-proxy: TCP to `clusterIp:port`
 * goes to `backendIp:backendPort`. The ClusterIP is assigned nowhere: pods route it to the
 * node by their default route, and the rule rewrites it there, as kube-proxy's does.
 */
export function addServiceDnat(lab: NodeLab, clusterIp: string, port: number, backendIp: string, backendPort: number): void {
  const nft = (...args: string[]): string => run(IP, ['netns', 'exec', lab.node, NFT, ...args]);
  nft('add', 'table', 'ip', 'kovenant_lab_nat');
  nft('add', 'chain', 'ip', 'kovenant_lab_nat', 'lab_prerouting', '{ type nat hook prerouting priority -100; }');
  nft(
    'add',
    'rule',
    'ip',
    'kovenant_lab_nat',
    'lab_prerouting',
    'ip',
    'daddr',
    clusterIp,
    'tcp',
    'dport',
    String(port),
    'dnat',
    'to',
    `${backendIp}:${backendPort}`,
  );
}

/** `conntrack`: the node's conntrack table (bytes and packets per flow) into kovenant_conntrack. */
import * as z from 'zod';
import { durationMs } from '../../core/config-values.ts';
import { collectorComponent, collectorFactory } from '../collector-component.ts';
import { ConntrackCollector } from '../conntrack/conntrack-collector.ts';

const schema = z.object({
  conntrack: z.boolean().default(false),
  procRoot: z.string().min(1).default('/proc'),
  conntrackInterval: durationMs('--conntrack-interval').default(5000),
  conntrackKeepNode: z.boolean().default(false),
  nodeName: z.string().optional(),
});

export const conntrackCollector = collectorFactory({
  name: 'conntrack',
  description: 'the node conntrack table (needs net.netfilter.nf_conntrack_acct=1)',
  schema,
  enabled: (config) => config.conntrack,
  build(config, { resolver, serviceNat }) {
    const c = new ConntrackCollector({
      procRoot: config.procRoot,
      intervalMs: config.conntrackInterval,
      nodeName: config.nodeName,
      resolver,
      keepNode: config.conntrackKeepNode,
      serviceNat,
    });
    return collectorComponent(c, () => {
      const s = c.stats();
      return {
        conntrack_vanished_flows: s.flowsVanished,
        conntrack_flow_resets: s.flowResets,
        conntrack_skipped_node_flows: s.skippedNodeFlows,
        conntrack_skipped_external_flows: s.skippedExternalFlows,
      };
    });
  },
});

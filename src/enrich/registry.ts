/**
 * What feeds the resolver's knowledge beside the flow: the Kubernetes metadata store and
 * the dnstap receiver (its DNS name cache). They are components like the rest
 * (core/component.ts, kind `enricher`) but a registry of their own, not the sources'
 * one: they bring no events into the pipeline (the `events` key picks among
 * `sources/registry.ts`), they answer the resolver's questions. The daemon and replay
 * build them only from here.
 */
import { dnstapReceiver } from './dns/dnstap-component.ts';
import { metadataStore } from './metadata/component.ts';

export const ENRICHERS = { metadata: metadataStore, dnstap: dnstapReceiver } as const;

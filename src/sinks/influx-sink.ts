/** Builds the `--output influx` sink: transport (v1 or v2) + spool (disk or memory) + delivery. */
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { DiskSpool } from './disk-spool.ts';
import { DEFAULT_DELIVERY, InfluxDeliverySink, type DeliveryOptions } from './influx-delivery.ts';
import { InfluxV1Transport } from './influx-v1-sink.ts';
import { InfluxV2Transport } from './influx-v2-sink.ts';
import type { LineTransport } from './line-transport.ts';
import { MemorySpool, type Spool, type SpoolDrop } from './spool.ts';

export type InfluxTarget =
  | { api: 'v2'; url: string; org: string; bucket: string; token?: string }
  | { api: 'v1'; url: string; db: string; rp?: string; username?: string; password?: string };

export interface InfluxSinkConfig {
  target: InfluxTarget;
  /** Directory of the on-disk spool; without it, a memory spool and `write()` waits for acks. */
  spoolDir?: string;
  spoolMaxBytes: number;
  spoolFsync?: 'always' | 'never';
  delivery?: Partial<DeliveryOptions>;
  gzipThreshold?: number;
  log?: Logger;
}

export function createTransport(target: InfluxTarget, maxBatchPoints: number, gzipThreshold?: number): LineTransport {
  if (target.api === 'v2') return new InfluxV2Transport({ ...target, maxBatchPoints, gzipThreshold });
  return new InfluxV1Transport({ ...target, gzipThreshold });
}

export async function createInfluxSink(config: InfluxSinkConfig): Promise<InfluxDeliverySink> {
  const log = config.log ?? createLogger('kovenant.sink');
  const batchPoints = config.delivery?.batchPoints ?? DEFAULT_DELIVERY.batchPoints;
  // The spool reports drops to the sink, which exists only after the spool: late binding.
  let sink: InfluxDeliverySink | undefined;
  const early: SpoolDrop[] = [];
  const onDrop = (drop: SpoolDrop): void => {
    if (sink) sink.recordDrop(drop.points, drop.bytes, drop.reason);
    else early.push(drop);
  };
  const spool: Spool = config.spoolDir
    ? await DiskSpool.open({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes, fsync: config.spoolFsync, onDrop, log })
    : new MemorySpool(config.spoolMaxBytes, onDrop);
  sink = new InfluxDeliverySink(spool, createTransport(config.target, batchPoints, config.gzipThreshold), log, config.delivery);
  for (const d of early) sink.recordDrop(d.points, d.bytes, d.reason);
  return sink;
}

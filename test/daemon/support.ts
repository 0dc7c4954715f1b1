/**
 * Helpers of the daemon tests. The CLI child process and the line protocol reader live in
 * test/support/ (one of each for every test); they are re-exported here for the tests
 * that import them from this file.
 */
import type { KovenantProcess } from '../support/cli.ts';
import type { Cleanup } from '../support/cleanup.ts';
import { startInfluxd, type RunningServer } from '../support/servers.ts';

import { startDaemon, influxV1Output } from '../support/cli.ts';

export { BIN, startDaemon, startCli } from '../support/cli.ts';
export { parseLineProtocol, fieldSums, type ParsedPoint } from '../support/line-protocol.ts';
export type Daemon = KovenantProcess;

/** The daemon's /metrics text (started with --metrics-addr 127.0.0.1:0: the port is in its log). */
export async function daemonMetrics(daemon: Daemon): Promise<string> {
  const port = /"msg":"metrics listening".*?"port":(\d+)|"port":(\d+).*?"msg":"metrics listening"/.exec(daemon.stderr());
  if (!port) throw new Error(`the daemon has not logged its metrics port: ${daemon.stderr()}`);
  const res = await fetch(`http://127.0.0.1:${port[1] ?? port[2]}/metrics`);
  return res.text();
}

/** The value of an unlabelled sample in Prometheus text; undefined when absent. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** A real InfluxDB 1.x on loopback holding database `db`, disposed after the test. */
export async function influxWithDatabase(cleanup: Cleanup, db: string): Promise<RunningServer> {
  const influx = cleanup.add(await startInfluxd(), (s) => s.dispose());
  const created = await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });
  if (!created.ok) throw new Error(`CREATE DATABASE ${db}: HTTP ${created.status} ${await created.text()}`);
  return influx;
}

/**
 * `kovenant run` from a Tetragon export file into InfluxDB (API v1): 1 s windows flushed
 * every 20 ms, so that a test sees its points soon. Append the test's own flags.
 */
export function fileToInfluxArgs(o: { log: string; checkpointFile: string; influxUrl: string; db: string }): string[] {
  return [
    'run',
    '--events',
    `file:${o.log}`,
    '--checkpoint-file',
    o.checkpointFile,
    ...influxV1Output(o.influxUrl, o.db),
    '--flush-interval',
    '20ms',
    '--window',
    '1s',
  ];
}

/** `startDaemon`, killed after the test if it still runs. */
export function ownedDaemon(cleanup: Cleanup, ...args: Parameters<typeof startDaemon>): Daemon {
  return cleanup.add(startDaemon(...args), (d) => d.kill());
}

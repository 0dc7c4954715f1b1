/**
 * Helpers of the daemon tests. The CLI child process and the line protocol reader live in
 * test/support/ (one of each for every test); they are re-exported here for the tests
 * that import them from this file.
 */
import type { KovenantProcess } from '../support/cli.ts';

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

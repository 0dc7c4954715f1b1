/**
 * Real InfluxDB 1.x and VictoriaMetrics servers for tests: loopback ports, temporary
 * data directories, stopped (and their data removed) by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild, waitForProcess } from './server-process.ts';

export interface RunningServer {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the process; the data directory stays until `dispose()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export function hasBinary(path: string): boolean {
  return existsSync(path);
}

/** In CI a missing server binary is a failure (`.ci/run` installs them); locally a skip. */
export function requireBinary(path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI) throw new Error(`${path} is missing: .ci/run should have installed it`);
  return false;
}

/**
 * A free loopback port below the kernel's ephemeral range (32768+ by default): outbound
 * connections and `listen(0)` never take those, so a server stopped and restarted on its
 * port (the mid-stream outage tests) gets it back even with other tests running.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free loopback port between 20000 and 32000');
}

/** Up once `url` answers below 500. */
function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  return waitForProcess(url, child, async () => (await fetch(url)).status < 500, timeoutMs);
}

function managed(dataDir: string, port: number, url: string, healthPath: string, launch: () => ChildProcess): Promise<RunningServer> {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = launch();
    await waitForHttp(url + healthPath, child, 30_000);
  };
  const server: RunningServer = {
    url,
    port,
    dataDir,
    stop: async () => stopChild(child),
    restart: async () => {
      await stopChild(child);
      await start();
    },
    dispose: async () => {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return start().then(() => server);
}

/** InfluxDB 1.x (`influxd` from Debian's `influxdb` package): `/write`, `/query`. */
export async function startInfluxd(): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kovenant-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const config = `
reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dataDir}/meta"
[data]
  dir = "${dataDir}/data"
  wal-dir = "${dataDir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "error"
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
`;
  const configPath = join(dataDir, 'influxdb.conf');
  writeFileSync(configPath, config);
  const url = `http://127.0.0.1:${port}`;
  return managed(dataDir, port, url, '/ping', () =>
    spawn('/usr/bin/influxd', ['run', '-config', configPath], { stdio: ['ignore', 'ignore', 'ignore'] }),
  );
}

/** VictoriaMetrics: accepts InfluxDB line protocol on `/write` and `/api/v2/write`. */
export async function startVictoriaMetrics(): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kovenant-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return managed(dataDir, port, url, '/health', () =>
    spawn(
      '/usr/bin/victoria-metrics',
      [
        `-storageDataPath=${dataDir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-loggerLevel=ERROR',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    ),
  );
}

/** Runs an InfluxQL query against InfluxDB 1.x and returns the first statement's series. */
export async function influxQuery(
  url: string,
  db: string,
  q: string,
): Promise<Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ns&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    results?: Array<{
      error?: string;
      series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
    }>;
    error?: string;
  };
  if (!res.ok || body.error) throw new Error(`InfluxQL failed (${res.status}): ${body.error ?? JSON.stringify(body)} for ${q}`);
  const first = body.results?.[0];
  if (first?.error) throw new Error(`InfluxQL error: ${first.error} for ${q}`);
  return first?.series ?? [];
}

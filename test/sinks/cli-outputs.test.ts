/**
 * The outputs through the real command line: `kovenant replay ... --output influx` into a
 * real InfluxDB 1.x must leave exactly what `--output line` prints; json and console
 * render the same points; bad combinations exit 2, unacknowledged points exit 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult, influxV1Output } from '../support/cli.ts';
import { fieldSums, parseLineProtocol } from '../support/line-protocol.ts';
import { influxQuery, requireBinary, startInfluxd, type RunningServer } from '../support/servers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EVENTS = join(ROOT, 'examples', 'events.jsonl.gz');
const SNAPSHOT = join(ROOT, 'examples', 'snapshot.json');

/** The CLI with only the environment the test sets (runCli leaves out the shell's INFLUX_* variables). */
function kovenant(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(args, { env, stdin: 'ignore' });
}

/** measurement → field → sum, and point counts, from line protocol text. */
function totalsOfLines(text: string): Map<string, number> {
  return new Map(Object.entries(fieldSums(parseLineProtocol(text, { withSource: true }), { countPoints: true })));
}

const TCP_FIELDS = ['bytes_sent', 'bytes_received', 'sends', 'receives', 'connects', 'closes'];
const IO_FIELDS = ['bytes_read', 'bytes_written', 'reads', 'writes'];

async function totalsInInflux(url: string, db: string): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const [m, fields] of [
    ['kovenant_tcp', TCP_FIELDS],
    ['kovenant_io', IO_FIELDS],
  ] as const) {
    const q = `SELECT ${fields.map((f) => `sum(${f})`).join(', ')}, count(${fields[0]}) FROM ${m}`;
    const values = (await influxQuery(url, db, q))[0]?.values[0] ?? [];
    fields.forEach((f, i) => totals.set(`${m}.${f}`, Number(values[i + 1] ?? 0)));
    totals.set(`${m}.points`, Number(values[fields.length + 1] ?? 0));
  }
  return totals;
}

let lineTotals: Map<string, number>;
let linePoints = 0;

beforeAll(async () => {
  const line = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--no-summary']);
  expect(line.code).toBe(0);
  lineTotals = totalsOfLines(line.stdout);
  linePoints = line.stdout.split('\n').filter(Boolean).length;
  expect(linePoints).toBeGreaterThan(100);
});

describe.skipIf(!requireBinary('/usr/bin/influxd'))('replay --output influx --influx-api v1 into a real InfluxDB', () => {
  let server: RunningServer;
  const spools: string[] = [];
  beforeAll(async () => {
    server = await startInfluxd();
    await fetch(`${server.url}/query?q=${encodeURIComponent('CREATE DATABASE cli')}`, { method: 'POST' });
  });
  afterAll(async () => {
    await server?.dispose();
    for (const d of spools) rmSync(d, { recursive: true, force: true });
  });

  it('leaves exactly the totals that --output line prints, and says so', async () => {
    const spool = mkdtempSync(join(tmpdir(), 'kovenant-cli-spool-'));
    spools.push(spool);
    const run = await kovenant(
      ['replay', EVENTS, '--kube', SNAPSHOT, '--output', 'influx', '--influx-api', 'v1', '--influx-db', 'cli', '--spool-dir', spool],
      { INFLUX_URL: server.url },
    );
    expect(run.stderr).toContain(`points acknowledged: ${linePoints}`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    const inInflux = await totalsInInflux(server.url, 'cli');
    for (const [key, value] of inInflux) expect({ key, value }).toEqual({ key, value: lineTotals.get(key) ?? 0 });
  });

  it('exits 1 with "N points not acknowledged" when the server refuses them', async () => {
    const run = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, ...influxV1Output(server.url, 'missing_db')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`kovenant: ${linePoints} points not acknowledged`);
    expect(run.stderr).toMatch(/database not found/);
  });
});

describe('a full disk under --out', () => {
  // /dev/full takes the open and fails every write with ENOSPC: the points of a replay
  // that fit in the stream's buffer fail only when the file is closed.
  for (const output of ['line', 'json'])
    it(`--output ${output}: exits 1 naming the file, not 0 with its points lost`, async () => {
      const run = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--output', output, '--out', '/dev/full', '--no-summary']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('kovenant: /dev/full: cannot write: no space left on device (ENOSPC)');
    });
});

describe('output choices on the command line', () => {
  it('--output influx without a URL is a usage error with a hint', async () => {
    const run = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--output', 'influx', '--influx-org', 'o', '--influx-bucket', 'b']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'kovenant: --output influx --influx-api v2 needs --influx-url (pass --influx-url or set KOVENANT_INFLUX_URL)',
    );
  });

  it('--influx-url with user:password in it is a usage error that does not echo the password', async () => {
    const run = await kovenant([
      'replay',
      EVENTS,
      '--kube',
      SNAPSHOT,
      '--output',
      'influx',
      '--influx-url',
      'http://kov:s3cr3t@influx.test:8086',
      '--influx-org',
      'o',
      '--influx-bucket',
      'b',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('kovenant: --influx-url: credentials in the URL are not supported (http://influx.test:8086/)');
    expect(run.stderr).toContain('--influx-password-file');
    expect(run.stderr).not.toContain('s3cr3t');
  });

  it('--output json prints one object per point with the same totals', async () => {
    const run = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--output', 'json', '--no-summary']);
    expect(run.code).toBe(0);
    const objects = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { measurement: string; fields: Record<string, number>; timestamp_ns: string });
    expect(objects).toHaveLength(linePoints);
    const sent = objects.filter((o) => o.measurement === 'kovenant_tcp').reduce((s, o) => s + (o.fields.bytes_sent ?? 0), 0);
    expect(sent).toBe(lineTotals.get('kovenant_tcp.bytes_sent'));
    expect(objects[0]?.timestamp_ns).toMatch(/^\d+000000$/);
  });

  it('--output console prints plain tables when stdout is not a terminal', async () => {
    const run = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--output', 'console', '--top', '3', '--no-summary']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\x1b[');
    expect(run.stdout).toContain('PODS BY NETWORK BYTES');
    expect(run.stdout).toContain('TOP REMOTE PEERS');
    expect(run.stdout).toContain('PODS BY I/O');
  });
});

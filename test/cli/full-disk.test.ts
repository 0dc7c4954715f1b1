/**
 * `kovenant replay` on a full disk (a 2 MB tmpfs): as the spool of an unreachable
 * InfluxDB, and as `--out`. Either way it ends with its summary and a one-line error,
 * never a stack trace.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, influxV1Output, RUN_STDIN } from '../support/cli.ts';
import { mountSmallDisk, requireSmallDisk, type SmallDisk } from '../support/small-disk.ts';
import { kprobeLine } from '../support/tetragon-lines.ts';

const disks: SmallDisk[] = [];
afterEach(() => {
  for (const d of disks.splice(0)) d.dispose();
});

/** 30,000 writes by 30,000 pods: about 4 MB of line protocol. */
function events(): string {
  const lines: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    lines.push(
      kprobeLine({
        fn: '__x64_sys_write',
        node: 'n1',
        time: `2024-05-01T12:00:0${i % 10}Z`,
        pod: { namespace: 'shop', name: `pod-with-a-long-name-${i}` },
        size: '100',
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** A port nothing listens on. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function expectOneLineError(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).toContain('kovenant replay summary');
  const last = stderr.trim().split('\n').at(-1)!;
  expect(last).toMatch(/^kovenant: /);
  return last;
}

describe.skipIf(!requireSmallDisk())('kovenant replay on a full disk', () => {
  it('--spool-dir on a full disk: drops the oldest points (DATA LOSS), prints the summary and a one-line error', async () => {
    const disk = mountSmallDisk(2 * 1024 * 1024);
    disks.push(disk);
    const port = await refusedPort();
    const r = await runCli(
      [
        'replay',
        '-',
        ...influxV1Output(`http://127.0.0.1:${port}`, 'k'),
        '--spool-dir',
        `${disk.dir}/spool`,
        '--drain-timeout',
        '2s',
        '--spool-fsync',
        'never',
      ],
      { stdin: events(), timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    expect(r.stderr).toContain('DATA LOSS');
    const last = expectOneLineError(r.stderr);
    expect(last).toMatch(/points not acknowledged/);
    expect(last).toMatch(/\d+ dropped from the spool/);
    expect(last).toMatch(/\d+ still in the spool/);
  }, 150_000);

  it('--out on a full disk: the summary and one line naming the file', async () => {
    const disk = mountSmallDisk(2 * 1024 * 1024);
    disks.push(disk);
    const out = `${disk.dir}/points.lp`;
    const r = await runCli(['replay', '-', '--out', out], { stdin: events(), timeoutMs: 120_000 });
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    const last = expectOneLineError(r.stderr);
    expect(last).toBe(`kovenant: ${out}: cannot write: no space left on device (ENOSPC)`);
  }, 150_000);
});

describe.skipIf(!requireSmallDisk())('kovenant run with its spool on a full disk', () => {
  it('keeps running (DATA LOSS counted), exits 0 at the end of its input, and a restart drains nothing it lost', async () => {
    const disk = mountSmallDisk(2 * 1024 * 1024);
    disks.push(disk);
    const port = await refusedPort();
    const args = [
      ...RUN_STDIN,
      ...influxV1Output(`http://127.0.0.1:${port}`, 'k'),
      '--spool-dir',
      `${disk.dir}/spool`,
      '--drain-timeout',
      '2s',
      '--spool-fsync',
      'never',
      '--max-clock-skew',
      '1000d',
    ];
    const r = await runCli(args, { stdin: events(), timeoutMs: 120_000 });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain('DATA LOSS');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('delivery stopped by an unexpected error');
    // A restart on the still-full disk starts, resumes the spool and stops cleanly.
    const again = await runCli(args, { stdin: '', timeoutMs: 120_000 });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stderr).toContain('resuming unsent points');
  }, 150_000);
});

/** Bad flags and unusable paths are one-line usage errors (exit 2) that name what to fix. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { mountSmallDisk, requireSmallDisk } from '../support/small-disk.ts';

let dir = '';
let events = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kovenant-usage-'));
  events = join(dir, 'events.jsonl');
  writeFileSync(events, '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INFLUX = ['--output', 'influx', '--influx-api', 'v1', '--influx-url', 'http://127.0.0.1:9', '--influx-db', 'k'];

async function usageError(args: string[]): Promise<string> {
  const r = await runCli(args, { timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/garbage collection/);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('kovenant: ') && !l.includes('no --kube snapshot given'));
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('usage errors', () => {
  it('run --spool-dir under a file names the spool dir, not checkpoint.json', async () => {
    const line = await usageError([
      'run',
      '--events',
      `file:${events}`,
      '--spool-dir',
      '/etc/passwd/sub',
      '--metrics-addr',
      'off',
      ...INFLUX,
    ]);
    expect(line).toContain('--spool-dir /etc/passwd/sub');
    expect(line).not.toContain('checkpoint');
  });

  it('replay --spool-dir under a file', async () => {
    expect(await usageError(['replay', events, '--spool-dir', '/etc/passwd/sub', ...INFLUX])).toMatch(
      /--spool-dir \/etc\/passwd\/sub: cannot use it as the spool: a part of the path is a file/,
    );
  });

  it.skipIf(!requireSmallDisk())('a read-only --spool-dir', async () => {
    const disk = mountSmallDisk(64 * 1024);
    try {
      execFileSync('mount', ['-o', 'remount,ro', disk.dir]);
      expect(await usageError(['replay', events, '--spool-dir', disk.dir, ...INFLUX])).toMatch(/read-only file system/);
    } finally {
      disk.dispose();
    }
  });

  it('--max-external-peers -5 names the key and the allowed range', async () => {
    expect(await usageError(['run', '--events', 'none', '--metrics-addr', 'off', '--max-external-peers', '-5'])).toMatch(
      /"maxExternalPeers" \(from flag\): expected a whole number, 0 or more; got "-5"/,
    );
  });

  it.each([
    [
      'replay',
      'EVENTS',
      '--decode-threads',
      '17',
      /replay --decode-threads: expected auto or a whole number of threads from 0 to 16; got "17"/,
    ],
    [
      'run',
      '--events',
      'none',
      '--metrics-addr',
      'off',
      '--decode-threads',
      'many',
      /"decodeThreads" \(from flag\): expected auto.*got "many"/,
    ],
  ])('%s --decode-threads out of range', async (...row) => {
    const want = row.pop() as RegExp;
    const cmd = (row as string[]).map((a) => (a === 'EVENTS' ? events : a));
    expect(await usageError(cmd)).toMatch(want);
  });

  it.each([
    ['replay', 'EVENTS'],
    ['run', '--events', 'none', '--metrics-addr', 'off'],
  ])('%s --window beyond a day', async (...row) => {
    const cmd = row.map((a) => (a === 'EVENTS' ? events : a));
    expect(await usageError([...cmd, '--window', '99999999999d'])).toMatch(/--window 99999999999d: longer than a day/);
  });

  it.each([
    ['replay', 'EVENTS'],
    ['run', '--events', 'none', '--metrics-addr', 'off', '--duration', '1s'],
  ])('%s --kube /dev/null is refused unless --allow-empty-kube', async (...row) => {
    const cmd = row.map((a) => (a === 'EVENTS' ? events : a));
    expect(await usageError([...cmd, '--kube', '/dev/null'])).toMatch(/\/dev\/null: empty snapshot.*--allow-empty-kube/);
    const r = await runCli([...cmd, '--kube', '/dev/null', '--allow-empty-kube'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
  });
});

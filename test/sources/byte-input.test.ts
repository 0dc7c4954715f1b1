/**
 * `-` reads stdin: a pipe through process.stdin, a file redirected to stdin (a backlog)
 * in 1 MB reads like a named file. Both must read every byte, gzip or not.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, type CliResult } from '../support/cli.ts';

const GOLDEN = gunzipSync(readFileSync(`${REPO}test/golden/example.lp.gz`)).toString('utf8');
const ARGS = ['replay', '-', '--kube', 'examples/snapshot.json', '--window', '10s', '--no-summary'];

function replayFromStdin(stdin: number | Buffer): Promise<CliResult> {
  return runCli(ARGS, { stdin, stderr: 'inherit' });
}

describe('stdin as the events input', () => {
  it('reads a gzip file redirected to stdin and plain events through a pipe to the same output', async () => {
    const gz = `${REPO}examples/events.jsonl.gz`;
    const fd = openSync(gz, 'r');
    try {
      const redirected = await replayFromStdin(fd);
      expect(redirected.code).toBe(0);
      expect(redirected.stdout).toBe(GOLDEN);
    } finally {
      closeSync(fd);
    }
    const piped = await replayFromStdin(gunzipSync(readFileSync(gz)));
    expect(piped.code).toBe(0);
    expect(piped.stdout).toBe(GOLDEN);
  }, 60_000);
});

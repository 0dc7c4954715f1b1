/**
 * `kovenant replay --kubeconfig` against the in-test API server: flags that conflict,
 * and watches closed at exit. Runs the real CLI.
 *
 * Why the fake: it counts the watches still open after exit; the real apiserver's replay, contexts and RBAC are in kube-apiserver-replay.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.ts';
import { startFakeKubeApi, type FakeKubeApi, type FakeObject } from '../support/fake-kube-api.ts';
import { eventually, join, tempDir } from './kube-fixtures.ts';

const EVENTS = 'examples/events.jsonl.gz';
const SNAPSHOT = 'examples/snapshot.json';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kovenant(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const { KUBECONFIG: _ignored, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...base, KOVENANT_LOG_LEVEL: 'warn', ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: typeof err?.code === 'number' ? err.code : err ? 1 : 0, stdout, stderr }),
    );
  });
}

let api: FakeKubeApi;
let tmp: ReturnType<typeof tempDir>;
let kubeconfig: string;

beforeAll(async () => {
  tmp = tempDir();
  api = await startFakeKubeApi();
  const list = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as { items: FakeObject[] };
  for (const obj of list.items) api.put(obj);
  kubeconfig = join(tmp.dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfig, 'kind-test');
});

afterAll(async () => {
  await api?.close();
  tmp?.dispose();
});

describe('kovenant replay through live watches', () => {
  it('rejects --kube together with --kubeconfig', async () => {
    const res = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--kubeconfig', kubeconfig]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--kube and --kubeconfig/--context both given');
  });

  it('closes its watches when the replay ends', async () => {
    const res = await kovenant(['replay', EVENTS, '--kubeconfig', kubeconfig, '--no-summary']);
    expect(res.code).toBe(0);
    await eventually(() => expect(api.openWatches()).toBe(0));
    expect(api.requests.filter((r) => r.verb === 'watch').length).toBeGreaterThan(0);
  });
});

/**
 * `kovenant replay --kubeconfig` against the in-test API server must print exactly what
 * `kovenant replay --kube snapshot.json` prints for the same objects: same resolver,
 * another metadata source. Runs the real CLI.
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
  it('prints byte-identical line protocol to the snapshot replay of the same objects', async () => {
    const [live, snapshot, bare] = await Promise.all([
      kovenant(['replay', EVENTS, '--kubeconfig', kubeconfig, '--no-summary']),
      kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--no-summary']),
      kovenant(['replay', EVENTS, '--no-summary']),
    ]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stderr).toMatch(/waiting for Kubernetes metadata from http:\/\/127\.0\.0\.1:\d+/);
    expect(live.stderr).toContain('Kubernetes metadata synced: 12 pods, 5 services, 3 nodes, 11 workload controllers');
    expect(snapshot.stdout).toMatch(/remote_kind=pod/);
    expect(snapshot.stdout).toMatch(/remote_kind=service/);
    expect(snapshot.stdout).toMatch(/release=/);
    // Without metadata the output differs, so the comparison below is not vacuous.
    expect(bare.stdout).not.toBe(snapshot.stdout);
    expect(live.stdout).toBe(snapshot.stdout);
  });

  it('KUBECONFIG alone (no --kube) selects watches, and --context picks the context', async () => {
    const viaEnv = await kovenant(['replay', EVENTS, '--no-summary'], { KUBECONFIG: kubeconfig });
    const snapshot = await kovenant(['replay', EVENTS, '--kube', SNAPSHOT, '--no-summary']);
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toBe(snapshot.stdout);
    const badContext = await kovenant(['replay', EVENTS, '--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toContain('no context "prod"');
    expect(badContext.stderr).toContain('--context must be one of: kind-test');
  });

  it('exits 2 naming the forbidden verb and resource when RBAC denies a list, after --sync-timeout', async () => {
    api.fail({ verb: 'list', kind: 'StatefulSet', status: 403, times: 1_000 });
    try {
      const res = await kovenant(['replay', EVENTS, '--kubeconfig', kubeconfig, '--sync-timeout', '2s']);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('still waiting for Kubernetes metadata, retrying');
      expect(res.stderr).toMatch(/not synced within 2s: .*forbidden to list statefulsets\.apps/);
      expect(res.stderr).toContain('grant verbs [list, watch] on resource "statefulsets" in apiGroup "apps"');
      expect(res.stdout).toBe('');
    } finally {
      api.clearFaults();
    }
  });

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

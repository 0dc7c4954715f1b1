/**
 * `kovenant replay --kubeconfig` against the in-test API server: flags that conflict,
 * and watches closed at exit. Runs the real CLI.
 *
 * Why the fake: it counts the watches still open after exit; the real apiserver's replay, contexts and RBAC are in kube-apiserver-replay.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi, type FakeObject } from '../support/fake-kube-api.ts';
import { eventually, join, tempDir } from './kube-fixtures.ts';
import { kovenant } from './kube-cli.ts';

const EVENTS = 'examples/events.jsonl.gz';
const SNAPSHOT = 'examples/snapshot.json';

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

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configFromEnv, configFromFile, envName, redactedConfig, resolveConfig } from '../../src/config/daemon-config.ts';
import { cliOutput } from '../support/cli.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function yamlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kovenant-cfg-'));
  dirs.push(dir);
  const file = join(dir, 'kovenant.yaml');
  writeFileSync(file, text);
  return file;
}

describe('daemon config', () => {
  it('merges flags > env > file > defaults', async () => {
    const file = await configFromFile(yamlFile('window: 30s\nlateness: 5s\nconntrack: true\ncpuInterval: 7s\n'));
    const env = configFromEnv({ KOVENANT_LATENESS: '3s', KOVENANT_CPU_INTERVAL: '9s', NODE_NAME: 'node-a' });
    const config = resolveConfig({ file, env, flags: { cpuInterval: '11s' } });
    expect(config).toMatchObject({
      window: '30s',
      lateness: '3s',
      cpuInterval: '11s',
      conntrack: true,
      nodeName: 'node-a',
      conntrackInterval: '5s',
      metricsAddr: ':9464',
    });
    expect(resolveConfig({ env: configFromEnv({ KOVENANT_NODE_NAME: 'explicit', NODE_NAME: 'downward' }) }).nodeName).toBe('explicit');
  });

  it('maps keys to environment names and parses env booleans and lists', () => {
    expect(envName('conntrackKeepNode')).toBe('KOVENANT_CONNTRACK_KEEP_NODE');
    const config = resolveConfig({
      env: configFromEnv({ KOVENANT_CPU: 'true', KOVENANT_KUBE: 'a.json,b.json', KOVENANT_MAX_EXTERNAL_PEERS: '50' }),
    });
    expect(config.cpu).toBe(true);
    expect(config.kube).toEqual(['a.json', 'b.json']);
    expect(config.maxExternalPeers).toBe(50);
  });

  it('--max-cached-entries: default, env, and at least 1', () => {
    expect(resolveConfig({}).maxCachedEntries).toBe(20_000);
    expect(resolveConfig({ env: configFromEnv({ KOVENANT_MAX_CACHED_ENTRIES: '5000' }) }).maxCachedEntries).toBe(5000);
    expect(() => resolveConfig({ flags: { maxCachedEntries: '0' } })).toThrow(/"maxCachedEntries".*at least 1/);
  });

  it('names the key, where it came from and the allowed values', () => {
    expect(() => resolveConfig({ env: { conntrackInterval: 'soon' } })).toThrow(
      /"conntrackInterval" \(from environment KOVENANT_CONNTRACK_INTERVAL\): expected a duration/,
    );
    expect(() => resolveConfig({ file: { output: 'kafka' }, fileName: 'k.yaml' })).toThrow(/"output" \(from k.yaml\)/);
    const thrown = (() => {
      try {
        resolveConfig({ file: { output: 'kafka' } });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(thrown).toMatchObject({ hint: 'allowed values: line, json, console, influx, influx-v1, influx-v2' });
    expect(() => resolveConfig({ file: { windw: '10s' }, fileName: 'k.yaml' })).toThrow(/unknown key "windw" \(from k.yaml\)/);
  });

  it('rejects YAML that is not a mapping', async () => {
    await expect(configFromFile(yamlFile('- a\n- b\n'))).rejects.toThrow(/expected a mapping/);
    await expect(configFromFile(yamlFile('window: [\n'))).rejects.toThrow(/not valid YAML/);
  });

  it('redacts secrets', () => {
    expect(redactedConfig(resolveConfig({ flags: { influxToken: 's3cret' } })).influxToken).toBe('[redacted]');
  });

  it('`kovenant config print` shows the effective config, secrets redacted', async () => {
    const file = yamlFile('window: 30s\ninfluxToken: s3cret\n');
    const out = await cliOutput(['config', 'print', '--config', file, '--lateness', '4s'], {
      env: { KOVENANT_CPU: 'true', NODE_NAME: 'n9' },
    });
    expect(out).not.toContain('s3cret');
    expect(parse(out)).toMatchObject({ window: '30s', lateness: '4s', cpu: true, nodeName: 'n9', influxToken: '[redacted]' });
  });
});

describe('the sink settings the daemon shares with replay', () => {
  it('--spool-fsync, --batch-size and --drain-timeout are keys of the daemon config', () => {
    const config = resolveConfig({
      file: { spoolFsync: 'never' },
      fileName: 'c.yaml',
      env: configFromEnv({ KOVENANT_BATCH_SIZE: '250' }),
      flags: { drainTimeout: '5s' },
    });
    expect([config.spoolFsync, config.batchSize, config.drainTimeout]).toEqual(['never', 250, '5s']);
    expect(() => resolveConfig({ file: { spoolFsync: 'sometimes' }, fileName: 'c.yaml', env: {}, flags: {} })).toThrow(/spoolFsync/);
    expect(() => resolveConfig({ file: {}, fileName: 'c.yaml', env: {}, flags: { batchSize: '0' } })).toThrow(/batchSize/);
  });
});

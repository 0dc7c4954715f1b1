/**
 * One set of environment variables (`KOVENANT_*`) for replay and the daemon, with the
 * old `INFLUX_*` names replay used still accepted; the `KOVENANT_*` name wins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configFromEnv, resolveConfig } from '../../src/config/daemon-config.ts';
import { OUTPUT_KEYS, OUTPUT_SETTINGS, envNameOf, outputSettingsOf } from '../../src/config/output-settings.ts';
import { runCli } from '../support/cli.ts';

const EVENTS = 'examples/events.jsonl.gz';
const SNAPSHOT = 'examples/snapshot.json';
const dir = mkdtempSync(join(tmpdir(), 'kovenant-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Only what a test sets: a variable in the developer's shell must not leak in. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUX_') && !k.startsWith('KOVENANT_')));
  return { ...env, ...extra };
}

describe('the daemon config', () => {
  it('reads KOVENANT_INFLUX_URL, the deprecated INFLUX_URL, and prefers the first', () => {
    expect(resolveConfig({ env: configFromEnv({ KOVENANT_INFLUX_URL: 'http://new:8086' }) }).influxUrl).toBe('http://new:8086');
    expect(resolveConfig({ env: configFromEnv({ INFLUX_URL: 'http://old:8086' }) }).influxUrl).toBe('http://old:8086');
    expect(resolveConfig({ env: configFromEnv({ INFLUX_URL: 'http://old:8086', KOVENANT_INFLUX_URL: 'http://new:8086' }) }).influxUrl).toBe(
      'http://new:8086',
    );
    // A flag still wins over both.
    expect(
      resolveConfig({ env: configFromEnv({ INFLUX_URL: 'http://old:8086' }), flags: { influxUrl: 'http://flag:8086' } }).influxUrl,
    ).toBe('http://flag:8086');
  });

  it('names the variable a bad value came from, alias included', () => {
    expect(() => resolveConfig({ env: configFromEnv({ INFLUX_URL: 'not a url' }) })).toThrow(/"influxUrl" \(from environment INFLUX_URL\)/);
    expect(() => resolveConfig({ env: configFromEnv({ KOVENANT_INFLUX_URL: 'not a url' }) })).toThrow(
      /"influxUrl" \(from environment KOVENANT_INFLUX_URL\)/,
    );
    expect(() => resolveConfig({ env: configFromEnv({ KOVENANT_SPOOL_MAX_BYTES: 'lots' }) })).toThrow(
      /"spoolMaxBytes" \(from environment KOVENANT_SPOOL_MAX_BYTES\): expected a size/,
    );
  });

  it('`kovenant config print` takes the alias', async () => {
    const run = await runCli(['config', 'print'], {
      env: cleanEnv({ INFLUX_BUCKET: 'old-bucket', KOVENANT_INFLUX_ORG: 'new-org', INFLUX_ORG: 'old-org' }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(parse(run.stdout)).toMatchObject({ influxBucket: 'old-bucket', influxOrg: 'new-org' });
  });
});

describe('replay', () => {
  it('every sink setting has a KOVENANT_* name; the flag, then KOVENANT_*, then INFLUX_* wins', () => {
    for (const key of OUTPUT_KEYS) expect(envNameOf(key)).toMatch(/^KOVENANT_[A-Z_]+$/);
    expect(OUTPUT_SETTINGS.influxUrl.alias).toBe('INFLUX_URL');
    expect(outputSettingsOf({}, { INFLUX_DB: 'old' }).influxDb).toBe('old');
    expect(outputSettingsOf({}, { INFLUX_DB: 'old', KOVENANT_INFLUX_DB: 'new' }).influxDb).toBe('new');
    expect(outputSettingsOf({ influxDb: 'flag' }, { INFLUX_DB: 'old', KOVENANT_INFLUX_DB: 'new' }).influxDb).toBe('flag');
    expect(outputSettingsOf({}, { KOVENANT_BATCH_SIZE: '250' }).batchSize).toBe('250');
  });

  // The URL is refused (credentials in it) with the host named: which variable was read shows.
  const args = ['replay', EVENTS, '--kube', SNAPSHOT, '--output', 'influx', '--influx-org', 'o', '--influx-bucket', 'b', '--no-summary'];

  it('reads the deprecated INFLUX_URL', async () => {
    const run = await runCli(args, { env: cleanEnv({ INFLUX_URL: 'http://u:p@old.test:8086' }) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--influx-url: credentials in the URL are not supported (http://old.test:8086/)');
  });

  it('prefers KOVENANT_INFLUX_URL over INFLUX_URL', async () => {
    const run = await runCli(args, {
      env: cleanEnv({ INFLUX_URL: 'http://u:p@old.test:8086', KOVENANT_INFLUX_URL: 'http://u:p@new.test:8086' }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('(http://new.test:8086/)');
    expect(run.stderr).not.toContain('p@');
  });

  it("parses KOVENANT_* values with the sink's schema: a bad size names the flag", async () => {
    const run = await runCli([...args, '--influx-url', 'http://127.0.0.1:9', '--spool-dir', join(dir, 'spool')], {
      env: cleanEnv({ KOVENANT_SPOOL_MAX_BYTES: 'lots' }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--spool-max-bytes: invalid size "lots"');
  });
});

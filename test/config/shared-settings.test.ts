/**
 * The settings replay and `run` share (src/config/shared-settings.ts): one help text and
 * one parse each, with each command's default; both commands' flags are made of it.
 */
import { describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.ts';
import { runCommand } from '../../src/cli/run-command.ts';
import { resolveConfig } from '../../src/config/daemon-config.ts';
import { SHARED_KEYS, SHARED_SETTINGS, sharedHelp, windowLengthMs } from '../../src/config/shared-settings.ts';
import { flagOf } from '../../src/core/config-values.ts';

function optionHelp(cmd: ReturnType<typeof runCommand>, flag: string): string | undefined {
  return cmd.options.find((o) => o.long === flag)?.description;
}

describe('settings shared by replay and run', () => {
  it("are flags of both commands with the one help text and each command's default", () => {
    const replay = replayCommand(() => {});
    const run = runCommand();
    for (const key of SHARED_KEYS) {
      const flag = flagOf(key);
      expect(optionHelp(replay, flag), `replay ${flag}`).toBe(sharedHelp(key, 'replay'));
      expect(optionHelp(run, flag), `run ${flag}`).toContain(sharedHelp(key, 'run'));
      expect(sharedHelp(key, 'replay').startsWith(SHARED_SETTINGS[key].help)).toBe(true);
    }
    expect(optionHelp(replay, '--lateness')).toContain('at the end of the input');
    expect(optionHelp(run, '--lateness')).toContain('default 2s');
  });

  it("the daemon config takes run's defaults from the table", () => {
    const config = resolveConfig({});
    expect(config.window).toBe(SHARED_SETTINGS.window.defaults.run);
    expect(config.lateness).toBe(SHARED_SETTINGS.lateness.defaults.run);
    expect(config.maxCachedEntries).toBe(Number(SHARED_SETTINGS.maxCachedEntries.defaults.run));
    expect(() => resolveConfig({ flags: { maxCachedEntries: '0' } })).toThrow(
      /"maxCachedEntries" \(from flag\): expected at least 1 entry/,
    );
  });

  it('one window parse for both: above 0, a day at most', () => {
    expect(windowLengthMs('10s')).toBe(10_000);
    expect(() => windowLengthMs('0s')).toThrow(/--window must be longer than 0/);
    expect(() => windowLengthMs('2d')).toThrow(/--window 2d: longer than a day/);
  });
});

/**
 * `kovenant --help` lists the commands from src/cli/commands.ts without loading them:
 * the listing must say what the loaded commands say, and the help must not import the
 * commands' modules (start-up time).
 */
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { DESCRIPTIONS, SYNOPSES, type CommandName } from '../../src/cli/command-names.ts';
import { LOADERS } from '../../src/cli/commands.ts';
import { runCli } from '../support/cli.ts';

describe('the command index', () => {
  it('describes every command as the command itself does', async () => {
    for (const name of Object.keys(DESCRIPTIONS) as CommandName[]) {
      const cmd = await LOADERS[name](() => {});
      expect(cmd.name()).toBe(name);
      expect(cmd.description()).toBe(DESCRIPTIONS[name]);
      expect(new Help().subcommandTerm(cmd)).toBe(SYNOPSES[name]);
    }
  });

  it('lists every command in --help and runs the named one', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(DESCRIPTIONS) as CommandName[]) expect(help.stdout).toContain(SYNOPSES[name]);
    const sub = await runCli(['help', 'replay']);
    expect(sub.stdout).toContain('Usage: kovenant replay [options] <events>');
    const bad = await runCli(['replay']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("missing required argument 'events'");
  });
});

/**
 * The subcommands: names and one-line descriptions here, their modules loaded only when
 * the command line names them. `kovenant --help` lists every command without importing
 * what they run (the daemon alone pulls in zod, rxjs, prom-client and pino), so
 * start-up pays only for the command used.
 */
import type { Command } from 'commander';

export const DESCRIPTIONS = {
  replay: 'replay a Tetragon export (JSON lines, .gz or - for stdin) into windowed line protocol',
  demo: 'replay the bundled example (no cluster needed) and show the top talkers',
  run: 'the node daemon: follow Tetragon events, sample conntrack and CPU, write windows until stopped',
  config: 'inspect the daemon configuration',
} as const;

/** How `kovenant --help` lists each command (commander's term for the loaded command). */
export const SYNOPSES: Record<keyof typeof DESCRIPTIONS, string> = {
  replay: 'replay [options] <events>',
  demo: 'demo [options]',
  run: 'run [options]',
  config: 'config',
};

export type CommandName = keyof typeof DESCRIPTIONS;

/** Each command's module, imported on demand. */
export const LOADERS: Record<CommandName, (stderr: (text: string) => void) => Promise<Command>> = {
  replay: async (stderr) => (await import('./replay-command.ts')).replayCommand(stderr),
  demo: async (stderr) => (await import('./demo-command.ts')).demoCommand(stderr),
  run: async (stderr) => (await import('./run-command.ts')).runCommand(stderr),
  config: async () => (await import('./config-command.ts')).configCommand(),
};

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(DESCRIPTIONS, name);
}

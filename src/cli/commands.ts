/**
 * The subcommands' modules, loaded only when the command line names them. `kovenant
 * --help` lists every command (command-names.ts) without importing what they run (the
 * daemon alone pulls in zod, rxjs, prom-client and pino), so start-up pays only for the
 * command used.
 */
import type { Command } from 'commander';
import type { CommandName } from './command-names.ts';

/** Each command's module, imported on demand. */
export const LOADERS: Record<CommandName, (stderr: (text: string) => void) => Promise<Command>> = {
  replay: async (stderr) => (await import('./replay-command.ts')).replayCommand(stderr),
  demo: async (stderr) => (await import('./demo-command.ts')).demoCommand(stderr),
  run: async () => (await import('./run-command.ts')).runCommand(),
  config: async () => (await import('./config-command.ts')).configCommand(),
};

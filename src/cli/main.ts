/** The `kovenant` command line. */
import { Command, CommanderError } from 'commander';
import { demoCommand } from './demo-command.ts';
import { DeliveryError } from '../sinks/delivery-stats.ts';
import { InputError } from '../core/input-error.ts';
import { replayCommand } from './replay-command.ts';
import { runCommand } from './run-command.ts';
import { configCommand } from './config-command.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function buildProgram(stderr: (text: string) => void): Command {
  const program = new Command('kovenant')
    .description('Tetragon kernel events → Kubernetes-aware network, I/O and CPU metrics for InfluxDB')
    .exitOverride()
    .configureOutput({ writeErr: stderr })
    .showHelpAfterError(false);
  for (const cmd of [replayCommand(stderr), demoCommand(stderr), runCommand(stderr), configCommand()]) {
    cmd.exitOverride().configureOutput({ writeErr: stderr });
    program.addCommand(cmd);
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const stderr = (text: string): void => {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  // A closed stdout (| head) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
  });
  try {
    await buildProgram(stderr).parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message; help and version are not failures.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof InputError) {
      stderr(err.toLine());
      return EXIT_USAGE;
    }
    if (err instanceof DeliveryError) {
      stderr(`kovenant: ${err.message}`);
      return EXIT_FAILURE;
    }
    stderr(`kovenant: ${(err as Error).stack ?? String(err)}`);
    return EXIT_FAILURE;
  }
}

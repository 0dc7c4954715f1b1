/** The `kovenant` command line. */
import { Command, CommanderError, Help } from 'commander';
import { DeliveryError } from '../sinks/delivery-stats.ts';
import { DESCRIPTIONS, SYNOPSES, isCommandName, type CommandName } from './command-names.ts';
import { LOADERS } from './commands.ts';
import { OutputError } from '../sinks/output-error.ts';
import { InputError } from '../core/input-error.ts';
import { mapStackTraces } from '../telemetry/stack-traces.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * The commands `argv` names (the first word, and the one after `help`): only their
 * modules are loaded; the others are listed in the help by name and description.
 */
function namedCommands(argv: readonly string[]): Set<CommandName> {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const named = new Set<CommandName>();
  for (const w of words[0] === 'help' ? words.slice(0, 2) : words.slice(0, 1)) if (isCommandName(w)) named.add(w);
  return named;
}

export async function buildProgram(stderr: (text: string) => void, argv: readonly string[] = process.argv): Promise<Command> {
  const named = namedCommands(argv);
  const listed = new Map<Command, CommandName>();
  const program = new Command('kovenant')
    .description('Tetragon kernel events → Kubernetes-aware network, I/O and CPU metrics for InfluxDB')
    .exitOverride()
    .configureOutput({ writeErr: stderr })
    .configureHelp({
      subcommandTerm(cmd: Command): string {
        const name = listed.get(cmd);
        return name ? SYNOPSES[name] : Help.prototype.subcommandTerm.call(this, cmd);
      },
    })
    .showHelpAfterError(false);
  for (const name of Object.keys(DESCRIPTIONS) as CommandName[]) {
    let cmd: Command;
    if (named.has(name)) {
      cmd = await LOADERS[name](stderr);
    } else {
      cmd = new Command(name).description(DESCRIPTIONS[name]);
      listed.set(cmd, name);
    }
    cmd.exitOverride().configureOutput({ writeErr: stderr });
    program.addCommand(cmd);
  }
  return program;
}

/**
 * How long the process may outlive its command. Everything kovenant opens is closed on
 * every path, but a library request it had to abandon cannot be: client-node's list
 * calls take no abort signal, and one sent to an API server that accepts connections and
 * never answers holds a socket open for good. The exit must not wait for it.
 */
const EXIT_GRACE_MS = 2000;

function exitSoon(code: number): number {
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  return code;
}

export async function main(argv: readonly string[]): Promise<number> {
  mapStackTraces();
  return exitSoon(await runMain(argv));
}

async function runMain(argv: readonly string[]): Promise<number> {
  const stderr = (text: string): void => {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  // A closed stdout (| head) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
  });
  try {
    await (await buildProgram(stderr, argv)).parseAsync(argv);
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
    if (err instanceof DeliveryError || err instanceof OutputError) {
      stderr(`kovenant: ${err.message}`);
      return EXIT_FAILURE;
    }
    stderr(`kovenant: ${(err as Error).stack ?? String(err)}`);
    return EXIT_FAILURE;
  }
}

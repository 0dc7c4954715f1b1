/**
 * The subcommands' names, one-line descriptions and synopses: what `kovenant --help`
 * lists without loading any command (commands.ts loads them), and what each command
 * module reads for its own description.
 */
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

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(DESCRIPTIONS, name);
}

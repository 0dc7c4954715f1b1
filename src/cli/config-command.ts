/**
 * `kovenant config print [flags]`: the effective daemon config (flags > env > file >
 * defaults) as YAML, secrets redacted, to check what a pod will run with.
 */
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { DESCRIPTIONS } from './command-names.ts';
import { redactedConfig } from '../config/daemon-config.ts';
import { addConfigFlags } from '../config/flags.ts';
import { loadDaemonConfig } from '../config/load.ts';

export function configCommand(): Command {
  const print = new Command('print')
    .description('print the effective config of `kovenant run` with the same flags, as YAML (secrets redacted)')
    .addOption(new Option('--config <file>', 'YAML config file'))
    .exitOverride();
  addConfigFlags(print);
  print.action(async (_opts: unknown, command: Command) => {
    const config = await loadDaemonConfig(command, process.env);
    process.stdout.write(stringify(redactedConfig(config)));
  });
  return new Command('config').description(DESCRIPTIONS.config).addCommand(print);
}

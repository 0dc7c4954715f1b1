/** `kovenant run`: commander adapted to the daemon (src/daemon/daemon.ts). */
import { Command, Option } from 'commander';
import { loadDaemonConfig } from '../config/load.ts';
import { addConfigFlags } from '../config/flags.ts';
import { DESCRIPTIONS } from './command-names.ts';

export function runCommand(): Command {
  const cmd = new Command('run')
    .description(DESCRIPTIONS.run)
    .addOption(
      new Option('--config <file>', 'YAML config file (keys as the long flags, camelCase); flags > env (KOVENANT_*) > file > defaults'),
    );
  addConfigFlags(cmd);
  return cmd.action(async (_opts: unknown, command: Command) => {
    const config = await loadDaemonConfig(command, process.env);
    // Imported once the config is valid: `run --help` and a config error do not load the
    // daemon's parts (rxjs, the sinks, the collectors).
    const { runDaemon } = await import('../daemon/daemon.ts');
    await runDaemon(config);
  });
}

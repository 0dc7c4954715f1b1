/** The effective daemon config of a command line: --config file, env and flags merged. */
import type { Command } from 'commander';
import { configFromEnv, configFromFile, resolveConfig, type DaemonConfig } from './daemon-config.ts';
import { configFromFlags } from './flags.ts';

export type { DaemonConfig };

export async function loadDaemonConfig(command: Command, env: NodeJS.ProcessEnv): Promise<DaemonConfig> {
  const opts = command.opts<Record<string, unknown>>();
  const configFile = typeof opts.config === 'string' ? opts.config : env.KOVENANT_CONFIG;
  const file = configFile ? await configFromFile(configFile) : undefined;
  return resolveConfig({ file, fileName: configFile, env: configFromEnv(env), flags: configFromFlags(opts) });
}

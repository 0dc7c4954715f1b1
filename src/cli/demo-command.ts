/**
 * `kovenant demo` (what `npm start` runs): replays the bundled example and prints the
 * top talkers, so a new user sees the pipeline work without a cluster.
 */
import { Command } from 'commander';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../daemon/demo.ts';
import { DESCRIPTIONS } from './command-names.ts';

export function demoCommand(stderr: (text: string) => void): Command {
  return new Command('demo')
    .description(DESCRIPTIONS.demo)
    .option('--out <file>', 'where to write the line protocol', join(tmpdir(), 'kovenant-demo.lp'))
    .option('--top <n>', 'rows in the top talkers table', '15')
    .action(async (opts: { out: string; top: string }) => {
      await runDemo(opts, stderr);
    });
}

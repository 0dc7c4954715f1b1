/**
 * `--output` and the sink flags of replay. Flags win over environment variables, which
 * win over defaults (commander's `.env()`); src/daemon/sinks.ts opens the sink.
 */
import { Command, Option } from 'commander';
import { OUTPUTS } from '../daemon/sinks.ts';

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--output <kind>', 'where points go').choices(OUTPUTS).default('line'))
    .addOption(new Option('--out <file>', 'line/json output: write to FILE instead of stdout'))
    .addOption(new Option('--influx-api <version>', 'influx output: v2 (/api/v2/write, 2.x/3.x/Cloud/1.8+) or v1 (/write, 1.x)').choices(['v1', 'v2']).default('v2'))
    .addOption(new Option('--influx-url <url>', 'influx output: server URL, e.g. http://influxdb:8086').env('INFLUX_URL'))
    .addOption(new Option('--influx-org <org>', 'influx v2: organization').env('INFLUX_ORG'))
    .addOption(new Option('--influx-bucket <bucket>', 'influx v2: bucket').env('INFLUX_BUCKET'))
    .addOption(new Option('--influx-token-file <file>', 'influx v2: file holding the API token (preferred: not visible in ps)').env('INFLUX_TOKEN_FILE'))
    .addOption(new Option('--influx-token <token>', 'influx v2: API token (prefer --influx-token-file)').env('INFLUX_TOKEN'))
    .addOption(new Option('--influx-db <db>', 'influx v1: database').env('INFLUX_DB'))
    .addOption(new Option('--influx-rp <policy>', 'influx v1: retention policy (default: the database default)').env('INFLUX_RP'))
    .addOption(new Option('--influx-username <user>', 'influx v1: username (basic auth)').env('INFLUX_USERNAME'))
    .addOption(new Option('--influx-password-file <file>', 'influx v1: file holding the password').env('INFLUX_PASSWORD_FILE'))
    .addOption(new Option('--influx-password <password>', 'influx v1: password (prefer --influx-password-file)').env('INFLUX_PASSWORD').hideHelp())
    .addOption(new Option('--spool-dir <dir>', 'influx output: on-disk spool, so points survive outages and restarts (without it, writes wait for InfluxDB)').env('KOVENANT_SPOOL_DIR'))
    .addOption(new Option('--spool-max-bytes <size>', 'influx output: spool bound; the oldest points are dropped (and counted) beyond it, e.g. 512MiB').env('KOVENANT_SPOOL_MAX_BYTES').default('1GiB'))
    .addOption(new Option('--spool-fsync <policy>', 'influx output: always (sync every write) or never (leave it to the page cache)').choices(['always', 'never']).default('always'))
    .addOption(new Option('--batch-size <points>', 'influx output: points per request').default('5000'))
    .addOption(new Option('--flush-interval <duration>', 'influx output: how long a small batch waits for more points').default('1s'))
    .addOption(new Option('--drain-timeout <duration>', 'influx output: how long to keep retrying at exit before reporting unsent points').default('60s'))
    .addOption(new Option('--top <n>', 'console output: rows per table').default('10'));
}

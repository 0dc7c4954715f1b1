/**
 * Runs the real `kovenant` CLI as a child process, from its sources (so a test never runs
 * a stale dist/). Every test that spawns the CLI does it through this module: `runCli` for
 * a command that runs to completion, `startCli` for a daemon the test talks to while it
 * runs (readiness by waiting for its log, never by sleeping).
 *
 * The child's environment is the test's own: the parent's INFLUX_* and KOVENANT_* variables
 * (a developer's shell, a config file named by KOVENANT_CONFIG) never leak in; `env` adds
 * to it, and a variable set to `undefined` there is removed (Node leaves such keys out).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = `${REPO}test/support/kovenant-source.js`;

export interface CliOptions {
  /**
   * The child's stdin: text or bytes written and then closed; `'pipe'` for the test to write
   * to `child.stdin` itself; a file descriptor (a file redirected to stdin); `'ignore'`.
   * runCli's default is an empty input, closed at once; startCli's is `'ignore'`.
   */
  stdin?: string | Buffer | 'pipe' | 'ignore' | number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A command the CLI runs under, e.g. `['ip', 'netns', 'exec', ns]`. */
  prefix?: readonly string[];
  /** Node's own flags, before the script. */
  nodeArgs?: readonly string[];
  /** The script node runs: BIN (the sources) unless the test checks another build. */
  bin?: string;
  /** `'ignore'` for a run whose output is big and of no interest (memory measurements). */
  stdout?: 'pipe' | 'ignore';
  /** `'inherit'` shows the CLI's log in the test output instead of collecting it. */
  stderr?: 'pipe' | 'inherit';
}

export interface CliResult {
  code: number | null;
  /** The signal that ended the child (e.g. SIGKILL from runCli's timeout), else null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a daemon started from the sources may take to log "running" on a loaded
 * machine: the tests run it through the TypeScript loader, which compiles the sources at
 * start, and CI runs it beside the memory tests on two cores. One clean-clone CI run saw
 * a daemon in a network namespace log nothing for 20 s. Every daemon test waits this long
 * for its daemon's start (and gives the test time beyond it), none less.
 */
export const DAEMON_START_MS = 45_000;

export interface KovenantProcess {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr contains `text`; rejects, with the log, when the child exits first or at the deadline. */
  waitForLog(text: string, timeoutMs: number): Promise<void>;
  /** The exit code (null after a signal); rejects, with the log, when still running after `timeoutMs`. */
  exited(timeoutMs: number): Promise<number | null>;
  /** SIGKILL unless it already ended. */
  kill(): void;
}

/** The parent's environment less what configures kovenant, plus `env`. */
export function cliEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUX_') && !k.startsWith('KOVENANT_')));
  return { ...base, ...env };
}

/** Starts `kovenant ARGS` and returns at once; the test waits for what it needs. */
export function startCli(args: readonly string[], options: CliOptions = {}): KovenantProcess {
  const input = options.stdin ?? 'ignore';
  // The words 'pipe' and 'ignore' are modes; any other string is input text.
  const mode = input === 'pipe' || input === 'ignore' || typeof input === 'number' ? input : undefined;
  const text = mode === undefined ? (input as string | Buffer) : undefined;
  const stdinMode = mode ?? 'pipe';
  const stdio: StdioOptions = [stdinMode, options.stdout ?? 'pipe', options.stderr ?? 'pipe'];
  const [cmd, ...rest] = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), options.bin ?? BIN, ...args];
  const child = spawn(cmd!, rest, { cwd: options.cwd ?? REPO, env: cliEnv(options.env), stdio });
  let out = '';
  let err = '';
  // setEncoding: a UTF-8 character split across two reads is still one character.
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  let ended = false;
  const exitedP = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      ended = true;
      resolve(code);
    });
  });
  // A failed spawn rejects exited() and runCli; nothing else waits on this one.
  exitedP.catch(() => undefined);
  // A child that fails early stops reading its input: not an error of the test.
  child.stdin?.on('error', () => undefined);
  if (text !== undefined) child.stdin!.end(text);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitForLog(text, timeoutMs) {
      await waitFor(
        `the CLI to log "${text}"`,
        () => {
          if (err.includes(text)) return true;
          if (ended) throw new Error(`kovenant exited (${child.exitCode ?? child.signalCode}) before logging "${text}": ${err}`);
          return false;
        },
        timeoutMs,
        50,
      ).catch((e: unknown) => {
        throw ended ? e : new Error(`kovenant did not log "${text}" within ${timeoutMs} ms: ${err}`);
      });
    },
    exited(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`kovenant still running after ${timeoutMs} ms: ${err}`)), timeoutMs);
      });
      return Promise.race([exitedP, deadline]).finally(() => clearTimeout(timer));
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs `kovenant ARGS` to its end (SIGKILL after `timeoutMs`, reported as `signal`). */
export async function runCli(args: readonly string[], options: CliOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const p = startCli(args, { ...options, stdin: options.stdin ?? '' });
  const timer = setTimeout(() => p.kill(), options.timeoutMs ?? 60_000);
  await new Promise<void>((resolve, reject) => {
    p.child.once('error', reject);
    // 'close', not 'exit': every byte of stdout and stderr has been read.
    p.child.once('close', () => resolve());
  }).finally(() => clearTimeout(timer));
  return { code: p.child.exitCode, signal: p.child.signalCode, stdout: p.stdout(), stderr: p.stderr() };
}

/** Stdout of a run that must succeed; otherwise throws with the exit code and the log. */
export async function cliOutput(args: readonly string[], options: CliOptions & { timeoutMs?: number } = {}): Promise<string> {
  const r = await runCli(args, options);
  if (r.code !== 0) throw new Error(`kovenant ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** The daemon tests' older shape of startCli (argv prefix, args, env, stdin). */
export function startDaemon(
  argvPrefix: string[],
  args: string[],
  env: NodeJS.ProcessEnv = {},
  stdin: 'ignore' | 'pipe' = 'ignore',
): KovenantProcess {
  return startCli(args, { prefix: argvPrefix, env, stdin });
}

/**
 * What `kovenant replay -` prints for `lines` (one event a line) with `args` after it: the
 * reference a daemon's output is compared with.
 */
export function replayOutput(lines: readonly string[], args: readonly string[]): Promise<string> {
  return cliOutput(['replay', '-', '--no-summary', ...args], { stdin: lines.join('\n') + '\n' });
}

/** `kovenant run` reading events from stdin, without a metrics server: the start of most daemon tests' arguments. */
export const RUN_STDIN = ['run', '--events', '-', '--metrics-addr', 'off'] as const;

/** The replay of the bundled example whose output test/cli/example-golden.test.ts holds (10 s windows). */
export const EXAMPLE_REPLAY = ['replay', 'examples/events.jsonl.gz', '--kube', 'examples/snapshot.json', '--window', '10s'] as const;

/** The flags of the InfluxDB 1.x output to `url`, database `db`. */
export function influxV1Output(url: string, db: string): string[] {
  return ['--output', 'influx', '--influx-api', 'v1', '--influx-url', url, '--influx-db', db];
}

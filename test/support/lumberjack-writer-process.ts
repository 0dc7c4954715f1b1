/**
 * A LumberjackWriter in a process of its own (`node --import tsx`), so that a follower
 * under test sees its rotations half done: renamed with no new live file yet, `.log` and
 * `.gz` side by side, the `.log` gone. In the test's own process the synchronous writer
 * runs between two of the follower's awaits, so those states never show.
 *
 * Arguments: PATH LINES SEED. Waits for a byte on stdin, then writes lines
 * `{"n":1,…}` … `{"n":LINES,…}` in bursts, rotating (gzipped) after most bursts and often
 * twice in a row with one line between, like the daemon's rotation test; prints `done`.
 */
import { LumberjackWriter } from './lumberjack-writer.ts';
import { xorshift } from './window-oracle.ts';

const [path, linesArg, seedArg] = process.argv.slice(2);
const total = Number(linesArg);
// A reproducible mix of bursts.
const next = xorshift(Number(seedArg));
const writer = new LumberjackWriter(path!, { compress: true });
let n = 0;
const line = (): string => `{"n":${++n},"pad":"${'x'.repeat(200 + (n % 97))}"}\n`;

async function main(): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  while (n < total) {
    const burst = Math.min(total - n, 20 + next(120));
    let text = '';
    for (let i = 0; i < burst; i++) text += line();
    writer.write(text);
    const rotations = next(3);
    for (let r = 0; r < rotations; r++) {
      writer.rotate();
      if (r + 1 < rotations) writer.write(n < total ? line() : '');
    }
    // The writer's pace, seeded (an input of the test, not a wait for a result).
    if (next(4) === 0) await new Promise((resolve) => setTimeout(resolve, 5 + next(40)));
  }
  process.stdout.write(`done ${writer.rotations}\n`);
}

await main();

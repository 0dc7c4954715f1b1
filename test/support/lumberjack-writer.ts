/**
 * Writes a file the way Tetragon's exporter (cilium/lumberjack v2) does: appends to the
 * live file; on rotation renames it to `<name>-<UTC time>.log` beside it (time as
 * `2006-01-02T15-04-05.000`) and opens a new, empty live file; with `compress`, then
 * gzips the backup as cilium/lumberjack's compressLogFile does: into `….log.gz.tmp`,
 * renamed to `….log.gz` once complete, then the `.log` removed (so a reader sees the
 * `.log`, or both, or the finished `.gz`, never a partial `.gz`); keeps at most
 * `maxBackups` backups, deleting the oldest. The clock advances a second per rotation,
 * so names never collide.
 */
import { appendFileSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface LumberjackOptions {
  compress?: boolean;
  maxBackups?: number;
  /** Time of the first rotation (ms); default 2026-05-01T12:00:00Z. */
  startMs?: number;
}

export class LumberjackWriter {
  /** Everything written, in order, for the oracle. */
  written = '';
  /** Backups deleted by the backup limit: name → the bytes they held. */
  readonly deleted = new Map<string, string>();
  rotations = 0;
  private clockMs: number;
  private readonly dir: string;
  private readonly prefix: string;
  private readonly ext: string;
  /** The live file's content so far (to know what each backup holds). */
  private live = '';
  private readonly contents = new Map<string, string>();

  constructor(
    readonly path: string,
    private readonly options: LumberjackOptions = {},
  ) {
    this.clockMs = options.startMs ?? Date.UTC(2026, 4, 1, 12, 0, 0);
    this.dir = dirname(path);
    const name = basename(path);
    this.ext = extname(name);
    this.prefix = name.slice(0, name.length - this.ext.length) + '-';
    writeFileSync(path, '');
  }

  write(text: string): void {
    appendFileSync(this.path, text);
    this.written += text;
    this.live += text;
  }

  /** Renames the live file away and opens a new one; returns the backup's name. */
  rotate(): string {
    this.rotations++;
    this.clockMs += 1000;
    const stamp = new Date(this.clockMs).toISOString().replace('Z', '').replace(/:/g, '-');
    const name = `${this.prefix}${stamp}${this.ext}`;
    renameSync(this.path, join(this.dir, name));
    writeFileSync(this.path, '');
    this.contents.set(name, this.live);
    this.live = '';
    if (this.options.compress) {
      const gz = join(this.dir, `${name}.gz`);
      writeFileSync(`${gz}.tmp`, gzipSync(readFileSync(join(this.dir, name))));
      renameSync(`${gz}.tmp`, gz);
      unlinkSync(join(this.dir, name));
    }
    if (this.options.maxBackups !== undefined) {
      const backups = readdirSync(this.dir)
        .filter((f) => f.startsWith(this.prefix))
        .sort();
      for (const old of backups.slice(0, Math.max(0, backups.length - this.options.maxBackups))) {
        unlinkSync(join(this.dir, old));
        const stem = old.replace(/\.gz$/, '');
        this.deleted.set(stem, this.contents.get(stem) ?? '');
      }
    }
    return name;
  }
}

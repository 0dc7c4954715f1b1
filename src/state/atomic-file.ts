/**
 * Small state files (the events checkpoint, the spool's cursor) replaced atomically: a
 * reader after a crash sees the old content or the new, never a torn mix.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Opens the directory and fsyncs it, so that renames and new files in it are durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to a temporary file beside `path` and renames it over `path`. With
 * `sync`, the file and then the directory are fsynced: the replacement survives a power
 * loss, not only a crash of the process.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { sync: boolean; mode?: number }): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await handle.writeFile(data);
      if (options.sync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (options.sync) await syncDirectory(dir);
}

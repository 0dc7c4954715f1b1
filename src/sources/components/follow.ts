/**
 * `follow` (the daemon's `events: file:PATH`): Tetragon's export file followed through
 * its rotations until the run stops, resumed where a checkpoint says.
 */
import * as z from 'zod';
import type { FileFollower, FollowPosition } from '../file-follower.ts';
import type { SourceComponent, SourceContext, SourceFactory } from '../source-component.ts';

const schema = z.object({ path: z.string().min(1) });

export interface FollowContext extends SourceContext {
  /** Where the previous run stopped (its checkpoint), if it did. */
  resumeFrom?: FollowPosition;
  /** For the resume messages: the checkpoint file. */
  checkpointFile?: string;
}

export interface FollowSource extends SourceComponent {
  /** For the checkpoint, which maps acknowledged lines to file positions. */
  readonly follower: FileFollower;
}

export const followSource: SourceFactory<typeof schema, FollowContext, FollowSource> = {
  kind: 'source',
  name: 'follow',
  description: "Tetragon's export file, followed through rotations; resumed at its checkpoint",
  schema,
  async create({ path }, { log, signal, resumeFrom, checkpointFile }) {
    // Loaded here, not at start: only the daemon follows a file (it brings node:crypto).
    const { FileFollower } = await import('../file-follower.ts');
    const follower = new FileFollower(path, {
      signal,
      resumeFrom,
      onMissed: (missed) =>
        log.error(
          { path, file: missed.file, bytesMissed: missed.bytes ?? 'unknown', estimated: missed.estimated, reason: missed.reason },
          `DATA LOSS: events file ${missed.file} is gone before it was read; ${missed.bytes === undefined ? 'an unknown number of' : `${missed.estimated ? 'about ' : ''}${missed.bytes}`} bytes of events are missing. Keep more backups (Tetragon exportFileMaxBackups) or give kovenant a faster sink`,
        ),
      onResume: (outcome) => {
        if (outcome.kind === 'resumed')
          log.info({ path, offset: outcome.offset, checkpoint: checkpointFile }, 'resuming the events file at its checkpoint');
        else if (outcome.kind === 'rotated')
          log.info(
            { path, rotated: outcome.rotatedPath, offset: outcome.offset },
            'the events file was rotated while stopped: reading the rest of the rotated file first',
          );
        else if (outcome.kind === 'missed')
          log.warn(
            { path, reason: outcome.reason, checkpoint: checkpointFile },
            'cannot resume at the checkpoint: reading the current file from its start; events written after the checkpoint to the file that went away are missing',
          );
      },
    });
    return {
      name: follower.name,
      chunks: follower.chunks,
      follower,
      stats: () => ({
        renames: follower.renames,
        truncations: follower.truncations,
        filesMissed: follower.filesMissed,
        bytesMissed: follower.bytesMissed,
      }),
      // The follower ends when the run's signal aborts; nothing else is held.
      close: async () => {},
    };
  },
};

/** `read`: an events file (gzip decompressed) or `-` (stdin), read once to its end (replay, `--events -`). */
import * as z from 'zod';
import { openByteInput } from '../byte-input.ts';
import type { SourceComponent, SourceFactory } from '../source-component.ts';

const schema = z.object({ path: z.string().min(1) });

export const readSource: SourceFactory<typeof schema> = {
  kind: 'source',
  name: 'read',
  description: 'an events file (.gz decompressed) or - (stdin), read once to its end',
  schema,
  async create({ path }): Promise<SourceComponent> {
    const input = await openByteInput(path);
    return {
      name: input.name,
      chunks: input.chunks,
      stats: () => ({}),
      close: async () => {
        await input.close?.();
        // A pending read would keep the process alive after the flush.
        if (path === '-') process.stdin.destroy();
      },
    };
  },
};

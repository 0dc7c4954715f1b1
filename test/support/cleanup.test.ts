/** cleanupAfterEach undoes what a test registered, newest first, and removes its temp dirs. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './cleanup.ts';

describe('cleanupAfterEach', () => {
  const cleanup = cleanupAfterEach();
  const undone: string[] = [];
  let dir = '';

  it('registers what the test started', () => {
    expect(cleanup.add('server', (v) => undone.push(v))).toBe('server');
    cleanup.add('process', async (v) => {
      await Promise.resolve();
      undone.push(v);
    });
    dir = cleanup.tempDir('kovenant-cleanup-');
    expect(existsSync(dir)).toBe(true);
    expect(undone).toEqual([]);
  });

  it('has undone it after that test, newest first', () => {
    expect(undone).toEqual(['process', 'server']);
    expect(existsSync(dir)).toBe(false);
  });
});

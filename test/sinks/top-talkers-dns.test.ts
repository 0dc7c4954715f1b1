/** The console views name DNS-named external peers by name and address. */
import { describe, expect, it } from 'vitest';
import { remoteName } from '../../src/sinks/top-talkers.ts';

describe('remoteName with remote_dns', () => {
  it('shows the name and the address; the address alone without a name', () => {
    expect(remoteName({ remote_kind: 'external', remote_name: '52.216.1.2', remote_dns: 's3.amazonaws.com' })).toBe(
      's3.amazonaws.com (52.216.1.2)',
    );
    expect(remoteName({ remote_kind: 'external', remote_name: '52.216.1.2' })).toBe('52.216.1.2');
  });
});

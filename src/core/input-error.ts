/** An error in what the user gave us: printed as one line with a hint, exit code 2. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }

  static fromFs(file: string, err: unknown): InputError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new InputError(`${file}: no such file`);
    if (code === 'EACCES') return new InputError(`${file}: permission denied`);
    if (code === 'EISDIR') return new InputError(`${file}: is a directory, expected a file`);
    return new InputError(`${file}: cannot read: ${(err as Error).message}`);
  }

  toLine(): string {
    return this.hint ? `kovenant: ${this.message} (${this.hint})` : `kovenant: ${this.message}`;
  }
}

/** Why a file system call failed, in words: the common codes here, a caller's own wording for the codes it expects. */
const FS_REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory',
};

export function fsErrorReason(err: unknown, own: Readonly<Record<string, string>> = {}): string {
  const e = err as NodeJS.ErrnoException;
  return (e.code !== undefined ? (own[e.code] ?? FS_REASONS[e.code]) : undefined) ?? e.message;
}

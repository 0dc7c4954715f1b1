/**
 * A sink cannot write its destination (a full disk under `--out`, an I/O error): the
 * process reports it in one line, without a stack trace, and exits 1.
 */
export class OutputError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OutputError';
  }

  static of(target: string, err: unknown): OutputError {
    if (err instanceof OutputError) return err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : e.code === 'EDQUOT' ? 'disk quota exceeded (EDQUOT)' : e.message;
    return new OutputError(`${target}: cannot write: ${why}`, e.code);
  }
}

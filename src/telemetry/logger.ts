/**
 * Structured logs (pino, JSON) to stderr: stdout carries data (line protocol, JSON,
 * tables), so logs must never interleave with it.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values must never reach a log line, wherever a caller puts them. */
const SECRET_PATHS = ['token', 'password', 'authorization', '*.token', '*.password', '*.authorization', 'headers.authorization'];

export function createLogger(name: string): Logger {
  return pino(
    {
      name,
      level: process.env.KOVENANT_LOG_LEVEL ?? 'info',
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

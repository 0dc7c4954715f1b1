/** The replay summary printed to stderr. */
import { REJECT_REASONS } from '../decode/kernel-event.ts';
import type { EventCounters } from '../pipeline/event-counters.ts';

function breakdown(entries: Iterable<[string, number]>): string {
  const parts = [...entries].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return parts.length ? ` (${parts.map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
}

export function formatSummary(c: EventCounters, elapsedMs: number, destination: string): string {
  const rejected = REJECT_REASONS.map((r): [string, number] => [r, c.rejected.get(r) ?? 0]);
  const rate = elapsedMs > 0 ? Math.round((c.read / elapsedMs) * 1000) : 0;
  const lines = [
    'kovenant replay summary',
    `  events read:     ${c.read}`,
    `  events used:     ${c.used}`,
    `  events skipped:  ${c.skippedTotal}${breakdown(c.skipped)}`,
    `  lines rejected:  ${c.rejectedTotal}${breakdown(rejected)}`,
    `  late events:     ${c.late}${c.late ? ` (their windows were already written; added to the oldest open window)` : ''}`,
    ...(c.windowSpills
      ? [
          `  window spills:   ${c.windowSpills} (open windows moved to a temporary file to stay under --max-open-points; each window still written once, whole)`,
        ]
      : []),
    `  fast-path fallbacks: ${c.fallbacks}${c.read ? ` (${((c.fallbacks / c.read) * 100).toFixed(2)}% of lines)` : ''}`,
    `  points written:  ${c.pointsWritten} to ${destination}`,
    `  elapsed:         ${(elapsedMs / 1000).toFixed(2)} s (${rate} events/s)`,
  ];
  return lines.join('\n') + '\n';
}

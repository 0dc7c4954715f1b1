/**
 * The daemon's own settings (the windows, lateness, clock skew, run length) parsed once
 * into milliseconds: the daemon config (config/daemon-config.ts) keeps the text as
 * given, which `kovenant config print` shows; the parts take numbers.
 */
import * as z from 'zod';
import { durationMs, parseSettings } from '../core/config-values.ts';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { windowLengthMs } from '../config/shared-settings.ts';

const schema = z.object({
  /** A fixed window's length (parsed as replay's is), or dynamic windows. */
  window: z.string().transform((w): number | 'dynamic' => (w === 'dynamic' ? 'dynamic' : windowLengthMs(w))),
  windowMax: durationMs('--window-max'),
  lateness: durationMs('--lateness'),
  maxClockSkew: durationMs('--max-clock-skew'),
  duration: durationMs('--duration').optional(),
});

export type RunSettings = z.output<typeof schema>;

export function runSettingsOf(config: DaemonConfig): RunSettings {
  return parseSettings(schema, config, 'config');
}

/**
 * The I/O TracingPolicy as install.sh applies it: install/io-policy-scope.bash run by the
 * real bash on the real tracing-policies/kovenant-io.yaml, with the namespace settings of
 * install/.env.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.ts';

export const IO_POLICY_FILE = join(ROOT, 'tracing-policies/kovenant-io.yaml');

export interface ScopedPolicy {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs io_policy_manifest with these values of IO_POLICY_NAMESPACES and IO_POLICY_EXCLUDE_NAMESPACES. */
export function scopedIoPolicy(include: string, exclude: string, file = IO_POLICY_FILE): ScopedPolicy {
  const script =
    'set -euo pipefail; source install/cluster-access.bash; source install/io-policy-scope.bash; io_policy_manifest "$1" "$2" "$3"';
  const r = spawnSync('/bin/bash', ['-c', script, 'io-policy', file, include, exclude], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The documented scopes, each with the selector it must produce. */
export const SCOPES: Array<{ name: string; include: string; exclude: string; operator: 'In' | 'NotIn'; values: string[] }> = [
  { name: 'IO_POLICY_NAMESPACES', include: 'payments, checkout', exclude: '', operator: 'In', values: ['payments', 'checkout'] },
  // `1` and `no` would be a number and a boolean in plain YAML: they must stay strings.
  {
    name: 'IO_POLICY_EXCLUDE_NAMESPACES',
    include: '',
    exclude: 'kube-system,1,no,',
    operator: 'NotIn',
    values: ['kube-system', '1', 'no'],
  },
];

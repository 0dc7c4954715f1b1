/** The real CLI for the replay tests against Kubernetes metadata (kept apart from kube-fixtures.ts, which the in-process tests import). */
import { runCli } from '../support/cli.ts';

export interface KovenantResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The real CLI with the test's environment less KUBECONFIG (so only the flags given choose
 * the API server), warnings and worse logged.
 */
export async function kovenant(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<KovenantResult> {
  const r = await runCli(args, { env: { KUBECONFIG: undefined, KOVENANT_LOG_LEVEL: 'warn', ...env }, timeoutMs });
  // Killed at the deadline: not a success.
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}

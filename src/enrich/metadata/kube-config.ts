/**
 * Which Kubernetes API server to watch, found the usual way: an explicit --kubeconfig,
 * else the pod's service account when running in a cluster, else KUBECONFIG, else
 * ~/.kube/config; --context picks a context from whichever file was loaded.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../../cli/input-error.ts';

export interface KubeConfigOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

export interface LoadedKubeConfig {
  config: KubeConfig;
  /** Where it came from, for log lines: a file path or "in-cluster service account". */
  source: string;
  server: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function inCluster(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(SERVICE_ACCOUNT_TOKEN));
}

export function loadKubeConfig(options: KubeConfigOptions, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const config = new KubeConfig();
  let source: string;
  if (options.kubeconfig) {
    source = options.kubeconfig;
    if (!existsSync(source)) throw new InputError(`${source}: no such file`, 'pass a kubeconfig file to --kubeconfig');
    loadFile(config, source);
  } else if (inCluster(env) && !options.context) {
    config.loadFromCluster();
    source = 'in-cluster service account';
  } else if (env.KUBECONFIG) {
    // Like kubectl, KUBECONFIG may list several files; client-node merges them.
    source = `KUBECONFIG=${env.KUBECONFIG}`;
    config.loadFromDefault();
  } else {
    source = join(homedir(), '.kube', 'config');
    if (!existsSync(source)) {
      throw new InputError('no Kubernetes configuration found (not in a cluster, no KUBECONFIG, no ~/.kube/config)', 'pass --kubeconfig FILE, or --kube SNAPSHOT for offline metadata');
    }
    loadFile(config, source);
  }
  if (options.context) {
    const names = config.getContexts().map((c) => c.name);
    if (!names.includes(options.context)) {
      throw new InputError(`${source}: no context "${options.context}"`, `--context must be one of: ${names.join(', ') || '(none defined)'}`);
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw new InputError(`${source}: context "${config.getCurrentContext()}" names no cluster with a server`, 'check current-context and clusters[].cluster.server');
  }
  return { config, source, server: cluster.server };
}

function loadFile(config: KubeConfig, file: string): void {
  try {
    config.loadFromFile(file);
  } catch (err) {
    throw new InputError(`${file}: not a valid kubeconfig: ${(err as Error).message.split('\n')[0]}`, 'kubectl config view --kubeconfig FILE should accept it');
  }
}

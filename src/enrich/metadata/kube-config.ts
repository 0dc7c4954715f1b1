/**
 * Which Kubernetes API server to watch, found the usual way: an explicit --kubeconfig,
 * else the pod's service account when running in a cluster, else KUBECONFIG, else
 * ~/.kube/config; --context picks a context from whichever file was loaded.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { InputError } from '../../core/input-error.ts';

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
  } else if (kubeconfigFiles(env).length) {
    source = `KUBECONFIG=${env.KUBECONFIG}`;
    loadFiles(config, kubeconfigFiles(env));
  } else {
    source = join(homedir(), '.kube', 'config');
    if (!existsSync(source)) {
      throw new InputError(
        'no Kubernetes configuration found (not in a cluster, no KUBECONFIG, no ~/.kube/config)',
        'pass --kubeconfig FILE, or --kube SNAPSHOT for offline metadata',
      );
    }
    loadFile(config, source);
  }
  if (options.context) {
    const names = config.getContexts().map((c) => c.name);
    if (!names.includes(options.context)) {
      throw new InputError(
        `${source}: no context "${options.context}"`,
        `--context must be one of: ${names.join(', ') || '(none defined)'}`,
      );
    }
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster?.server) {
    throw new InputError(
      `${source}: context "${config.getCurrentContext()}" names no cluster with a server`,
      'check current-context and clusters[].cluster.server',
    );
  }
  // client-node refuses a plain-http server unless TLS verification is off, and it says so
  // only on each request: a daemon would retry that forever. kubectl proxy serves http.
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    throw new InputError(
      `${source}: cluster "${cluster.name}" has a plain-http server (${cluster.server}), which the Kubernetes client refuses without insecure-skip-tls-verify`,
      `set "insecure-skip-tls-verify: true" on cluster "${cluster.name}" (as kubectl proxy needs) or use the API server's https address`,
    );
  }
  return { config, source, server: cluster.server };
}

/** KUBECONFIG may list several files, as for kubectl. */
function kubeconfigFiles(env: NodeJS.ProcessEnv): string[] {
  return (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f);
}

/**
 * Merges the files as client-node's loadFromDefault does (a later file's current-context
 * wins), but from the env we were given: loadFromDefault reads process.env.
 */
function loadFiles(config: KubeConfig, files: readonly string[]): void {
  files.forEach((file, i) => {
    const target = i === 0 ? config : new KubeConfig();
    loadFile(target, file);
    if (target === config) return;
    try {
      config.mergeConfig(target);
    } catch (err) {
      throw new InputError(
        `${file}: cannot merge into KUBECONFIG: ${(err as Error).message}`,
        'names of clusters, users and contexts must be unique across the KUBECONFIG files',
      );
    }
  });
}

function loadFile(config: KubeConfig, file: string): void {
  try {
    config.loadFromFile(file);
  } catch (err) {
    throw new InputError(
      `${file}: not a valid kubeconfig: ${(err as Error).message.split('\n')[0]}`,
      'kubectl config view --kubeconfig FILE should accept it',
    );
  }
}

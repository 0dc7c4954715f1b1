/** `--kube`, `--kubeconfig`, `--context`, `--sync-timeout`: the metadata component (src/enrich/metadata/component.ts) opens them. */
import { Command, Option } from 'commander';
import { DEFAULT_SYNC_TIMEOUT } from '../enrich/metadata/component.ts';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addMetadataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--kube <snapshot>', 'kubectl get nodes,pods,services,replicasets,deployments,statefulsets,daemonsets,jobs,cronjobs -A -o json (or yaml); repeatable').argParser(collect))
    .addOption(new Option('--kubeconfig <file>', 'watch the cluster of this kubeconfig for live metadata (default: KUBECONFIG, else ~/.kube/config)'))
    .addOption(new Option('--context <name>', 'kubeconfig context to watch'))
    .addOption(new Option('--sync-timeout <duration>', 'how long to wait for the first sync of the watches').default(DEFAULT_SYNC_TIMEOUT))
    .addOption(new Option('--allow-empty-kube', 'accept a --kube snapshot without objects (else refused: attribution would silently use the events alone)'));
}

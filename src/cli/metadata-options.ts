/** `--sync-timeout` (`--kube`, `--kubeconfig`, `--context`, `--allow-empty-kube`: config/shared-settings.ts): the metadata component (src/enrich/metadata/component.ts) opens them. */
import { Command, Option } from 'commander';
import { DEFAULT_SYNC_TIMEOUT } from '../enrich/metadata/component.ts';

export function addMetadataOptions(cmd: Command): Command {
  return cmd.addOption(
    new Option('--sync-timeout <duration>', 'how long to wait for the first sync of the watches').default(DEFAULT_SYNC_TIMEOUT),
  );
}

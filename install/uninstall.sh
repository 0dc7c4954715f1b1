#!/usr/bin/env bash
# Removes what install/install.sh installed. Keeps the data (InfluxDB's and
# Prometheus's volumes, the Secrets that unlock them, and the kovenant
# namespace holding them) unless --purge is given, so that a later install
# continues with the same history.
set -euo pipefail

# Builtins only, so that even a PATH without coreutils gets as far as the tool checks.
HERE=${BASH_SOURCE[0]%/*}
[[ $HERE == "${BASH_SOURCE[0]}" ]] && HERE=.
ROOT="$(cd "$HERE/.." && pwd)"
ENV_FILE="$ROOT/install/.env"
NAMESPACE=kovenant
PURGE=false

# shellcheck source=install/cluster-access.bash
source "$ROOT/install/cluster-access.bash"

usage() {
  cat <<'USAGE'
Usage: install/uninstall.sh [--purge]

Removes the TracingPolicies and the helmfile releases (kovenant, Grafana,
Prometheus, InfluxDB, Tetragon).

  --purge   also delete the data: the kovenant namespace with its persistent
            volume claims and Secrets. This cannot be undone.
USAGE
}

for arg in "$@"; do
  case $arg in
    --purge) PURGE=true ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$arg'" ;;
  esac
done

require_cluster_tools
CONTEXT=""
resolve_context
log "uninstalling from context '$CONTEXT'"

# Policies first, while Tetragon still runs to unload its probes cleanly.
if kubectl --context "$CONTEXT" get crd tracingpolicies.cilium.io >/dev/null 2>&1; then
  log "removing the TracingPolicies"
  kubectl --context "$CONTEXT" delete -f "$ROOT/tracing-policies/" --ignore-not-found
fi

log "removing the releases (helmfile destroy)"
(cd "$ROOT" && helmfile --kube-context "$CONTEXT" destroy) ||
  die "helmfile destroy failed; the messages above name the release. Fix it and run install/uninstall.sh again"

if [[ $PURGE == true ]]; then
  log "purging the data: deleting namespace $NAMESPACE"
  kubectl --context "$CONTEXT" delete namespace "$NAMESPACE" --ignore-not-found --wait=true --timeout=300s ||
    die "namespace $NAMESPACE was not deleted in time. See what holds it: kubectl --context $CONTEXT get all,pvc -n $NAMESPACE"
  cat >&2 <<PURGED
Data deleted. Left on the nodes: kovenant's state directory
/var/lib/kovenant (unsent points, normally none, and the events checkpoint), and the Tetragon
CRDs, which the Tetragon operator created and other tools may use.
PURGED
else
  cat >&2 <<KEPT
Releases removed. Kept in namespace $NAMESPACE: the InfluxDB and Prometheus
volumes and the Secrets for them; install/install.sh picks them up again.
Delete everything with: install/uninstall.sh --purge
KEPT
fi

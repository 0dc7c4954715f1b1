# Sourced by install.sh and uninstall.sh: messages, the tools both need, settings from
# install/.env, and the kube context they act on. One copy, so both scripts read
# install/.env and pick the cluster the same way.
# shellcheck shell=bash

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_cluster_tools() {
  command -v kubectl >/dev/null 2>&1 ||
    die "kubectl not found. Install it: https://kubernetes.io/docs/tasks/tools/"
  command -v helm >/dev/null 2>&1 ||
    die "helm not found. Install Helm 3: https://helm.sh/docs/intro/install/"
  command -v helmfile >/dev/null 2>&1 ||
    die "helmfile not found. Install it: https://helmfile.readthedocs.io/en/latest/#installation"
}

# Reads KEY from $ENV_FILE without executing the file; empty when the file or key is absent.
env_get() {
  local key=$1 line
  [[ -f $ENV_FILE ]] || return 0
  line=$(grep -E "^${key}=" "$ENV_FILE" | tail -n 1 || true)
  line=${line#*=}
  line=${line%\"}; line=${line#\"}
  printf '%s' "$line"
}

# Sets CONTEXT: KUBE_CONTEXT from install/.env, else kubectl's current context; and
# checks that its cluster answers.
resolve_context() {
  CONTEXT=$(env_get KUBE_CONTEXT)
  if [[ -z $CONTEXT ]]; then
    CONTEXT=$(kubectl config current-context 2>/dev/null) ||
      die "no current kube context. Select one (kubectl config use-context NAME) or set KUBE_CONTEXT in install/.env"
  fi
  kubectl --context "$CONTEXT" get --raw /readyz --request-timeout=15s >/dev/null 2>&1 ||
    die "the cluster of context '$CONTEXT' is not reachable. Check it with: kubectl --context $CONTEXT cluster-info"
}

#!/usr/bin/env bash
# Installs kovenant and everything it needs (Tetragon, InfluxDB, Prometheus,
# Grafana, the TracingPolicies) into the cluster of the chosen kube context.
# Safe to run again: a second run with the same install/.env changes nothing.
set -euo pipefail

# Builtins only, so that even a PATH without coreutils gets as far as the tool checks.
HERE=${BASH_SOURCE[0]%/*}
[[ $HERE == "${BASH_SOURCE[0]}" ]] && HERE=.
ROOT="$(cd "$HERE/.." && pwd)"
ENV_FILE="$ROOT/install/.env"
EXAMPLE_ENV="$ROOT/install/example.env"
IO_POLICY_FILE="$ROOT/tracing-policies/kovenant-io.yaml"
NAMESPACE=kovenant
ROLLOUT_TIMEOUT=600s

# shellcheck source=install/cluster-access.bash
source "$ROOT/install/cluster-access.bash"
# shellcheck source=install/io-policy-scope.bash
source "$ROOT/install/io-policy-scope.bash"

usage() {
  cat <<'USAGE'
Usage: install/install.sh

Installs or upgrades kovenant, Tetragon, InfluxDB 2, Prometheus and Grafana
with helmfile, using the settings in install/.env (created from
install/example.env on the first run, with generated secrets).
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; die "unknown argument '$1'" ;;
esac

preflight() {
  require_cluster_tools
  helm plugin list 2>/dev/null | awk 'NR > 1 { print $1 }' | grep -qx diff ||
    die "the helm-diff plugin is missing (helmfile apply needs it). Install it: helm plugin install https://github.com/databus23/helm-diff"
}

# Sets KEY in install/.env, keeping every other line and the file's mode.
env_set() {
  local key=$1 value=$2 tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  grep -vE "^${key}=" "$ENV_FILE" >"$tmp" || true
  printf '%s=%s\n' "$key" "$value" >>"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

generate_secret() {
  # 36 random bytes, base64 without the characters that need quoting.
  head -c 36 /dev/urandom | base64 | tr -d '\n/+='
}

# Prints a key of an existing Secret, or nothing.
cluster_secret() {
  local name=$1 key=$2
  kubectl --context "$CONTEXT" -n "$NAMESPACE" get secret "$name" \
    -o "jsonpath={.data.$key}" 2>/dev/null | base64 -d 2>/dev/null || true
}

# A secret's value: install/.env first, then the cluster (so that losing
# install/.env does not lock kovenant out of an existing InfluxDB), and
# generated only when neither has it. Whatever is used is saved to .env.
resolve_secret() {
  local var=$1 secret=$2 key=$3 value
  value=$(env_get "$var")
  if [[ -z $value ]]; then
    value=$(cluster_secret "$secret" "$key")
    if [[ -n $value ]]; then
      log "$var: taken from the existing Secret $NAMESPACE/$secret"
    else
      value=$(generate_secret)
      log "$var: generated"
    fi
    env_set "$var" "$value"
  fi
  printf '%s' "$value"
}

# Values go through a process substitution fed by printf (a builtin), so they
# never appear in a command line visible to other users in `ps`.
apply_secret() {
  local name=$1 env_data=$2
  kubectl --context "$CONTEXT" -n "$NAMESPACE" create secret generic "$name" \
    --from-env-file=<(printf '%s' "$env_data") --dry-run=client -o yaml |
    kubectl --context "$CONTEXT" apply -f - >/dev/null
}

# The policies of tracing-policies/, kovenant-io as io_policy_manifest scoped it ($1).
apply_tracing_policies() {
  local io_policy=$1 file
  kubectl --context "$CONTEXT" wait --for=condition=established --timeout=180s \
    crd/tracingpolicies.cilium.io >/dev/null ||
    die "the TracingPolicy CRD did not appear. Check the Tetragon operator: kubectl --context $CONTEXT -n kube-system logs deploy/tetragon-operator"
  for file in "$ROOT"/tracing-policies/*.yaml; do
    [[ $file == "$IO_POLICY_FILE" ]] && continue
    kubectl --context "$CONTEXT" apply -f "$file"
  done
  printf '%s\n' "$io_policy" | kubectl --context "$CONTEXT" apply -f -
}

wait_rollouts() {
  local target
  for target in kube-system/daemonset/tetragon \
    "$NAMESPACE/statefulset/influxdb" \
    "$NAMESPACE/deployment/prometheus-server" \
    "$NAMESPACE/daemonset/kovenant" \
    "$NAMESPACE/deployment/grafana"; do
    log "waiting for $target"
    kubectl --context "$CONTEXT" -n "${target%%/*}" rollout status "${target#*/}" \
      --timeout="$ROLLOUT_TIMEOUT" ||
      die "$target did not become ready. Inspect it: kubectl --context $CONTEXT -n ${target%%/*} describe ${target#*/}"
  done
}

main() {
  preflight

  if [[ ! -f $ENV_FILE ]]; then
    [[ -f $EXAMPLE_ENV ]] || die "$EXAMPLE_ENV is missing; restore it from git: git checkout -- install/example.env"
    install -m 600 "$EXAMPLE_ENV" "$ENV_FILE"
    log "created install/.env from install/example.env"
  fi

  # Checked before anything is installed, so that a bad value costs nothing.
  local io_policy
  io_policy=$(io_policy_manifest "$IO_POLICY_FILE" \
    "$(env_get IO_POLICY_NAMESPACES)" "$(env_get IO_POLICY_EXCLUDE_NAMESPACES)")

  resolve_context
  log "installing into context '$CONTEXT'"

  kubectl --context "$CONTEXT" create namespace "$NAMESPACE" --dry-run=client -o yaml |
    kubectl --context "$CONTEXT" apply -f - >/dev/null

  local grafana_user grafana_password influx_password influx_token
  grafana_user=$(env_get GRAFANA_ADMIN_USER)
  grafana_user=${grafana_user:-admin}
  grafana_password=$(resolve_secret GRAFANA_ADMIN_PASSWORD grafana-admin admin-password)
  influx_password=$(resolve_secret INFLUXDB_ADMIN_PASSWORD influxdb-auth admin-password)
  influx_token=$(resolve_secret INFLUXDB_TOKEN influxdb-auth admin-token)

  apply_secret grafana-admin \
    "$(printf 'admin-user=%s\nadmin-password=%s\n' "$grafana_user" "$grafana_password")"
  apply_secret influxdb-auth \
    "$(printf 'admin-password=%s\nadmin-token=%s\n' "$influx_password" "$influx_token")"
  kubectl --context "$CONTEXT" apply -f "$ROOT/install/manifests/" >/dev/null

  log "applying the releases (helmfile apply)"
  (cd "$ROOT" && helmfile --kube-context "$CONTEXT" apply --suppress-secrets --skip-diff-on-install) ||
    die "helmfile apply failed; the messages above name the release. Fix it and run install/install.sh again (it resumes where it stopped)"

  log "applying the TracingPolicies"
  apply_tracing_policies "$io_policy"

  wait_rollouts

  cat <<DONE

kovenant is installed. Open Grafana with:

  kubectl --context $CONTEXT -n $NAMESPACE port-forward svc/grafana 3000:80

then browse to http://localhost:3000 and log in as '$grafana_user' with the
GRAFANA_ADMIN_PASSWORD from install/.env. Dashboards: kovenant / traffic and
kovenant / pipeline.
DONE
}

main

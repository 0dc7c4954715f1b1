#!/usr/bin/env bash
# Builds the real Kubernetes parts the tests start (helm, kube-apiserver) into .tools/bin,
# reusing a binary that already reports the pinned version, so a second run costs seconds.
# Run it as `npm run tools`. Versions: helm below, kube-apiserver from ./go.mod.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

helm_version=v3.22.0
# The Kubernetes version `helm template` and `helm lint` assume without a cluster, set as
# Helm's release Makefile does from the client-go it is built with (v0.37 for v3.22):
# without it a `go install`ed helm assumes 1.20 and refuses charts that need newer.
helm_kube_version="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
helm_kube_version+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
k8s_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/go.mod")"
if [[ -z "$k8s_version" ]]; then
  echo "build-tools: no 'require k8s.io/kubernetes vX.Y.Z' line in $here/go.mod" >&2
  exit 1
fi

# Static binaries without a C toolchain; -trimpath and -s -w (no symbol table, no DWARF)
# lighten the link, the one step of the kube-apiserver build that two cores cannot share.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

step() { echo "build-tools: $*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 && return
  echo "build-tools: go not found; install Go $(awk '$1 == "go" { print $2 }' "$here/go.mod") or newer (https://go.dev/dl/) and run npm run tools again" >&2
  exit 1
}

timed() {
  local name="$1"; shift
  local start=$SECONDS
  "$@"
  step "$name built in $((SECONDS - start))s"
}

if [[ -x "$bin/helm" && "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" == "$helm_version" ]]; then
  step "helm $helm_version already built"
else
  need_go
  step "building helm $helm_version"
  timed helm env GOBIN="$bin" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version $helm_kube_version" \
    "helm.sh/helm/v3/cmd/helm@$helm_version"
fi

build_apiserver() {
  local minor="${k8s_version#v1.}" pkg=k8s.io/component-base/version
  minor="${minor%%.*}"
  (cd "$here" && go build -trimpath -o "$bin/kube-apiserver" \
    -ldflags "-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver)
}

if [[ -x "$bin/kube-apiserver" && "$("$bin/kube-apiserver" --version 2>/dev/null)" == "Kubernetes $k8s_version" ]]; then
  step "kube-apiserver $k8s_version already built"
else
  need_go
  step "building kube-apiserver $k8s_version"
  timed kube-apiserver build_apiserver
fi

# etcd: Debian's etcd-server (3.4) serves the pinned apiserver; the tests look for it here.
if [[ ! -x "$bin/etcd" ]]; then
  etcd_path="$(command -v etcd || true)"
  if [[ -z "$etcd_path" ]]; then
    echo "build-tools: no etcd on PATH; install Debian's etcd-server (apt-get install etcd-server)" >&2
    exit 1
  fi
  ln -sf "$etcd_path" "$bin/etcd"
fi
step "tools ready in $bin"

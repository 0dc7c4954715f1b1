#!/usr/bin/env bash
# Builds the small CoreDNS of test/dns (only the plugins the dnstap tests use) into
# .tools/bin/coredns, and reuses a binary already built at the version go.mod pins.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/bin/coredns"
stamp="$bin.version"

if ! command -v go >/dev/null; then
  echo "build-coredns.sh: needs the Go toolchain (go) on PATH to build CoreDNS from its module" >&2
  exit 1
fi
cd "$here"
version="$(go list -m -f '{{.Version}}' github.com/coredns/coredns)"
sources="$(cat go.mod go.sum main.go | sha256sum | cut -d' ' -f1)"
want="$version $sources"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "coredns $version already built: $bin"
  exit 0
fi
mkdir -p "$(dirname "$bin")"
echo "building coredns $version into $bin (first build takes minutes)"
start=$SECONDS
CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" .
mv "$bin.tmp" "$bin"
echo "$want" >"$stamp"
echo "built coredns $version in $((SECONDS - start))s"

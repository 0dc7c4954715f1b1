# Sourced by install.sh: the I/O TracingPolicy (tracing-policies/kovenant-io.yaml) scoped
# to the namespaces that IO_POLICY_NAMESPACES or IO_POLICY_EXCLUDE_NAMESPACES in
# install/.env name. Pure bash, so that scoping needs no tool beyond kubectl, and so that
# the policy it builds can be checked without a cluster
# (test/deployment/io-policy-scope.test.ts).
# shellcheck shell=bash

# The label Tetragon gives every pod for its namespace (pkg/labels), which a
# TracingPolicy's podSelector matches.
IO_POLICY_NAMESPACE_LABEL=k8s:io.kubernetes.pod.namespace

# Prints the policy of FILE with a spec.podSelector on the namespace label: operator In
# for the INCLUDE list, NotIn for the EXCLUDE list (comma-separated, blanks around names
# ignored); the file unchanged when both are empty. Dies, naming the key, when both are
# set or a name is not a namespace name (an RFC 1123 DNS label).
io_policy_manifest() {
  local file=$1 include=$2 exclude=$3
  local key operator list item line found=0
  local -a names=() items=()
  if [[ -n ${include//[[:space:],]/} && -n ${exclude//[[:space:],]/} ]]; then
    die "install/.env sets both IO_POLICY_NAMESPACES and IO_POLICY_EXCLUDE_NAMESPACES; keep one: IO_POLICY_NAMESPACES traces only the namespaces it names, IO_POLICY_EXCLUDE_NAMESPACES all but those"
  elif [[ -n ${include//[[:space:],]/} ]]; then
    key=IO_POLICY_NAMESPACES operator=In list=$include
  elif [[ -n ${exclude//[[:space:],]/} ]]; then
    key=IO_POLICY_EXCLUDE_NAMESPACES operator=NotIn list=$exclude
  fi
  if [[ -n ${key:-} ]]; then
    IFS=, read -r -a items <<<"$list"
    for item in "${items[@]}"; do
      item=${item#"${item%%[![:space:]]*}"}
      item=${item%"${item##*[![:space:]]}"}
      [[ -z $item ]] && continue
      [[ ${#item} -le 63 && $item =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
        die "$key in install/.env: '$item' is not a namespace name (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit); names are separated by commas"
      names+=("$item")
    done
  fi
  [[ -f $file ]] || die "$file is missing; restore it from git: git checkout -- tracing-policies/"
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line == '  podSelector:'* && ${#names[@]} -gt 0 ]] &&
      die "$file already has a spec.podSelector; remove it, or remove $key from install/.env"
    printf '%s\n' "$line"
    [[ $line == 'spec:' ]] || continue
    found=$((found + 1))
    ((${#names[@]})) || continue
    # Quoted: a namespace may be named like a YAML number or boolean (`1`, `no`), and
    # must reach the API server as the string it is.
    printf '  podSelector:\n    matchExpressions:\n      - key: %s\n        operator: %s\n        values:\n' \
      "$IO_POLICY_NAMESPACE_LABEL" "$operator"
    printf '          - "%s"\n' "${names[@]}"
  done <"$file"
  ((found == 1)) || die "$file: expected one top-level 'spec:' line to scope, found $found"
  if ((${#names[@]})); then
    log "$key: kovenant-io traces $([[ $operator == In ]] && printf 'only' || printf 'every namespace but') ${names[*]}"
  fi
}

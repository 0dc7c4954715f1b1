//go:build tools

// Package cluster pins the Kubernetes release whose kube-apiserver the tests start
// (test/support/kube-apiserver.ts); build-tools.sh builds it from this module.
package cluster

import _ "k8s.io/kubernetes/cmd/kube-apiserver"

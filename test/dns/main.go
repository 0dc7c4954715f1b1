// A CoreDNS with only the plugins the dnstap tests use: building the full server pulls in
// every cloud provider's SDK and takes many minutes on a small CI machine.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/dnstap"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/log"
)

func init() {
	// The order is CoreDNS's own (plugin.cfg): dnstap wraps the handlers after it, so it
	// sees the answers that file writes.
	dnsserver.Directives = []string{"bind", "errors", "log", "dnstap", "file"}
}

func main() {
	coremain.Run()
}

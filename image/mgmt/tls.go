package mgmt

import (
	"crypto/tls"
	"net"
)

func newTLSListener(l net.Listener, c *tls.Config) net.Listener { return tls.NewListener(l, c) }

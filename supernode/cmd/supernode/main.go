// Command supernode is the rendezvous daemon: STUN Binding plus the
// supernode methods on UDP 3478, metrics on a loopback management port,
// systemd Type=notify with STATUS and watchdog. Configuration:
// /etc/supernode/supernode.conf over compiled-in defaults, then systemd
// credentials (see supernode/README.md).
package main

import "github.com/supernode-appliance/appliance/supernode/cmd/supernode/cli"

func main() { cli.Main() }

// Command appliance-mgmt is the appliance's opt-in management listener and
// its boot-time firewall step:
//
//	appliance-mgmt [serve] [-config FILE]   serve every daemon's metrics, the
//	                                        XDP counters and the live audit on
//	                                        management_listen (off by default)
//	appliance-mgmt firewall                 fill nftables' fleet and mgmt sets
//	                                        and the XDP overlay from
//	                                        supernode.conf and appliance-mgmt.conf
//	appliance-mgmt logship                  write systemd-netlogd's drop-in from
//	                                        the log_* keys (log shipping)
//
// See image/mgmt/README.md.
package main

import "github.com/supernode-appliance/appliance/image/cmd/appliance-mgmt/cli"

func main() { cli.Main() }

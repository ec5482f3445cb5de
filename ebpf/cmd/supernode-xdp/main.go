// Command supernode-xdp runs and operates the appliance's XDP filter.
//
//	supernode-xdp run [-config FILE]        the daemon (systemd: supernode-xdp.service)
//	supernode-xdp check [-config FILE]      validate a config file and exit
//	supernode-xdp status|counters|blocks|interfaces [-socket PATH]
//	supernode-xdp block IP TTL [REASON]     TTL in seconds or as 10m, 1h
//	supernode-xdp unblock IP
//	supernode-xdp detach [-config FILE] [-force]   remove the filter and its pins
package main

import "github.com/supernode-appliance/appliance/ebpf/cmd/supernode-xdp/cli"

func main() { cli.Main() }

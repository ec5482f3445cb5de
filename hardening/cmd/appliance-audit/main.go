// Command appliance-audit verifies the hardening profile on a built image
// (offline, read-only) or on the running appliance (--live).
package main

import "github.com/supernode-appliance/appliance/hardening/cmd/appliance-audit/cli"

func main() { cli.Main() }

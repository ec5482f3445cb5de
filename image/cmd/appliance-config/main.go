// Command appliance-config imports the per-instance configuration an
// operator wrote on the "appliance-config" partition (appliance.conf,
// name=value lines, optionally signed) into /run/credstore before the
// daemons start (see image/confpart). It runs once at boot from
// appliance-config.service, with the partition mounted read-only.
//
//	appliance-config [-dir DIR] [-key FILE] [-credstore DIR] [-last-good FILE] [-no-shadow] [-require-mount=false]
//
// Exit status: 0 imported or nothing to import; 1 the configuration was
// rejected (one line on stderr says why and what serves instead: the last
// good configuration or the built-in one; nothing of the rejected file was
// written); 2 usage error.
package main

import "github.com/supernode-appliance/appliance/image/cmd/appliance-config/cli"

func main() { cli.Main() }

// Command appliance-imds imports per-instance configuration from the cloud
// metadata service into /run/credstore (see image/imds). It runs once at
// boot from appliance-imds.service; on anything but AWS, GCP or Azure it
// exits 0 without touching the network.
//
//	appliance-imds [-sys-root DIR] [-base-url URL] [-credstore DIR] [-state-dir DIR] [-last-good FILE] [-timeout D]
//
// Exit status: 0 imported, nothing to import, or not a cloud; 1 the user
// data was rejected or could not be fetched (one line on stderr says why
// and what serves instead: the last good document or the built-in
// configuration; nothing of the rejected data was written); 2 usage error.
package main

import "github.com/supernode-appliance/appliance/image/cmd/appliance-imds/cli"

func main() { cli.Main() }

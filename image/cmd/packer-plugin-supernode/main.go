// Command packer-plugin-supernode is the Packer plugin for the supernode
// appliance builder. Packer runs it (`describe`, `start builder ...`); the
// builder type in templates is "supernode".
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"
	"github.com/hashicorp/packer-plugin-sdk/version"

	"github.com/supernode-appliance/appliance/image/builder"
)

// PluginVersion is reported by `describe`.
var PluginVersion = version.NewPluginVersion("0.1.0", "dev", "")

func main() {
	pps := plugin.NewSet()
	pps.RegisterBuilder(plugin.DEFAULT_NAME, new(builder.Builder))
	pps.SetVersion(PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

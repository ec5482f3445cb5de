// Command packer-plugin-supernode is the Packer plugin for the supernode
// appliance builder. Packer runs it (`describe`, `start builder ...`); the
// builder type in templates is "supernode". `--version` prints the one
// version (internal/version), the same that `describe` reports.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"
	sdkversion "github.com/hashicorp/packer-plugin-sdk/version"

	"github.com/supernode-appliance/appliance/image/builder"
	"github.com/supernode-appliance/appliance/internal/version"
)

const usage = `usage: packer-plugin-supernode describe | start builder NAME | --version

Packer runs this plugin; install it with
  packer plugins install --path packer-plugin-supernode github.com/supernode-appliance/supernode
and use source "supernode" "<name>" { ... } in a template (image/README.md).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		switch args[0] {
		case "--version", "-version", "version":
			fmt.Fprintln(stdout, "packer-plugin-supernode", version.Version)
			return 0
		case "--help", "-help", "-h", "help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	if args[0] != "describe" && args[0] != "start" {
		fmt.Fprintf(stderr, "packer-plugin-supernode: unknown command %q; Packer runs this plugin (describe, start builder NAME), see --help\n", args[0])
		return 2
	}
	if err := builder.CloseInheritedFDs(); err != nil {
		fmt.Fprintln(stderr, "packer-plugin-supernode: cannot mark inherited file descriptors close-on-exec:", err)
		return 1
	}
	pps := plugin.NewSet()
	pps.RegisterBuilder(plugin.DEFAULT_NAME, new(builder.Builder))
	pps.SetVersion(sdkversion.NewPluginVersion(version.Parts(version.Version)))
	if err := pps.Run(); err != nil {
		fmt.Fprintln(stderr, "packer-plugin-supernode:", err)
		return 1
	}
	return 0
}

// Command appliance-multicall is every daemon and tool of the appliance in
// one static binary, the way busybox is many tools: the image installs it
// once as /usr/bin/appliance-multicall, and /usr/bin/supernode,
// /usr/bin/appliance-mgmt, ... are symbolic links to it. It runs the command
// its link names (argv[0]), with the same flags, output and exit status as
// that command's own binary (bin/<command> from `make build`).
//
// Seven Go binaries each carried their own Go runtime and standard library:
// 79 MB, 24 MiB compressed in the root. One binary that links all seven is
// 21 MB (see BENCHMARKS.md, "Image size").
//
//	appliance-multicall COMMAND [ARGS...]   run COMMAND (when not called by a link)
//	appliance-multicall --list              the commands, one per line
//	appliance-multicall --version           its version (each command's is the same)
//
// Exit status: that of the command; 2 for an unknown command.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	xdp "github.com/supernode-appliance/appliance/ebpf/cmd/supernode-xdp/cli"
	audit "github.com/supernode-appliance/appliance/hardening/cmd/appliance-audit/cli"
	config "github.com/supernode-appliance/appliance/image/cmd/appliance-config/cli"
	imds "github.com/supernode-appliance/appliance/image/cmd/appliance-imds/cli"
	mgmt "github.com/supernode-appliance/appliance/image/cmd/appliance-mgmt/cli"
	update "github.com/supernode-appliance/appliance/image/cmd/appliance-update/cli"
	"github.com/supernode-appliance/appliance/internal/version"
	supernode "github.com/supernode-appliance/appliance/supernode/cmd/supernode/cli"
)

// Name is this binary's own name in /usr/bin.
const Name = "appliance-multicall"

// commands are the links the image may install, by the name of the link.
var commands = map[string]func(){
	"supernode":        supernode.Main,
	"supernode-xdp":    xdp.Main,
	"appliance-audit":  audit.Main,
	"appliance-config": config.Main,
	"appliance-imds":   imds.Main,
	"appliance-mgmt":   mgmt.Main,
	"appliance-update": update.Main,
}

func main() {
	run, args, code := dispatch(os.Args, os.Stdout, os.Stderr)
	if run == nil {
		os.Exit(code)
	}
	os.Args = args
	run()
}

// dispatch picks the command for argv: by the name it was called by, or,
// when called as appliance-multicall itself, by its first argument. It
// returns the command and the argv that command sees (argv[0] is the
// command's name, so its usage and messages name it), or nil and an exit
// status after printing what to do.
func dispatch(argv []string, stdout, stderr io.Writer) (func(), []string, int) {
	name := ""
	if len(argv) > 0 {
		name = filepath.Base(argv[0])
	}
	if name == Name {
		if len(argv) < 2 {
			usage(stderr)
			return nil, nil, 2
		}
		switch argv[1] {
		case "-h", "-help", "--help":
			usage(stdout)
			return nil, nil, 0
		case "--list":
			for _, c := range names() {
				fmt.Fprintln(stdout, c)
			}
			return nil, nil, 0
		case "-version", "--version":
			fmt.Fprintln(stdout, Name, version.Version)
			return nil, nil, 0
		}
		argv = argv[1:]
		name = argv[0]
	}
	run, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q; it runs one of %v, called by that name (a link) or as `%s COMMAND`\n", Name, name, names(), Name)
		return nil, nil, 2
	}
	return run, argv, 0
}

func names() []string {
	var n []string
	for c := range commands {
		n = append(n, c)
	}
	sort.Strings(n)
	return n
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s COMMAND [ARGS...]\n       %s --list | --version\n\nEvery appliance daemon and tool in one binary. Called through a link named\nafter a command (/usr/bin/supernode -> %s), it runs that command.\n\ncommands: %v\n", Name, Name, Name, names())
}

package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// ParseFlags parses a daemon's command line with the appliance's one
// contract: -help prints usage on stdout and exits 0, a bad flag or a stray
// argument is one "name: ..." line on stderr and exit 2.
func ParseFlags(fs *flag.FlagSet, args []string, usage func(w io.Writer)) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(os.Stdout)
		fs.SetOutput(os.Stdout)
		fs.PrintDefaults()
		os.Exit(0)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v; see %s --help\n", fs.Name(), err, fs.Name())
		os.Exit(2)
	case fs.NArg() != 0:
		fmt.Fprintf(os.Stderr, "%s: unexpected argument %q; see %s --help\n", fs.Name(), fs.Arg(0), fs.Name())
		os.Exit(2)
	}
}

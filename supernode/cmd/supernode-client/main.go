// Command supernode-client generates peer keys and talks to a supernode:
// STUN Binding, register + keepalive, lookup, listen for introductions, and
// punch through NATs to a peer. Data lines go to stdout, one record per line;
// diagnostics go to stderr. Exit status: 0 success, 1 failure or timeout,
// 2 usage error, 3 peer not found.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
)

const usage = `usage: supernode-client COMMAND [flags] [HOST:PORT]

commands:
  keygen  -o FILE                          write a new Ed25519 key (0600), print its public key
  pubkey  -key FILE                        print the public key (64 hex characters)
  binding [-timeout 3s] HOST:PORT          plain STUN Binding; prints "mapped IP:PORT"
  register -key FILE [-bind ADDR] [-once] HOST:PORT
                                           register and keep alive until SIGTERM
  lookup  -key FILE -peer HEX HOST:PORT    register and look a peer up
  listen  -key FILE [-bind ADDR] HOST:PORT register, print introductions, echo peer datagrams
  punch   -key FILE -peer HEX [-bind ADDR] [-message TEXT] [-timeout 10s] HOST:PORT
                                           look a peer up, punch, send TEXT, wait for its echo

"supernode-client COMMAND --help" describes each command's flags.
`

// exit is an error that carries the process exit status.
type exit struct {
	code int
	msg  string
}

func (e *exit) Error() string { return e.msg }

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		fmt.Fprint(os.Stdout, usage)
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1], os.Args[2:], os.Stdout)
	var e *exit
	switch {
	case err == nil:
	case errors.As(err, &e):
		if e.msg != "" {
			fmt.Fprintln(os.Stderr, e.msg)
		}
		os.Exit(e.code)
	case errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "supernode-client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("supernode-client "+cmd, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	keyFile, bind, timeout := new(string), new(string), new(time.Duration)
	if cmd != "keygen" && cmd != "binding" {
		fs.StringVar(keyFile, "key", "", "Ed25519 key file written by keygen")
	}
	if needsServer(cmd) {
		fs.StringVar(bind, "bind", "", "local IP:PORT to send from (default: any address, random port)")
		fs.DurationVar(timeout, "timeout", 0, "give up after this long (binding 3s, punch 10s, others 10s for the registration)")
	}
	var outFile, peerHex, message *string
	var once *bool
	switch cmd {
	case "keygen":
		outFile = fs.String("o", "", "file to write the new key to (must not exist)")
	case "register":
		once = fs.Bool("once", false, "exit after registering instead of keeping alive")
	case "lookup":
		peerHex = fs.String("peer", "", "peer public key (64 hex characters)")
	case "punch":
		peerHex = fs.String("peer", "", "peer public key (64 hex characters)")
		message = fs.String("message", "hello", "text to send to the peer")
	case "pubkey", "binding", "listen":
	default:
		return &exit{2, fmt.Sprintf("supernode-client: unknown command %q; run supernode-client --help for the list", cmd)}
	}
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: supernode-client %s [flags]%s\n", cmd, map[bool]string{true: " HOST:PORT"}[needsServer(cmd)])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exit{2, ""}
	}
	if *timeout == 0 {
		*timeout = map[string]time.Duration{"binding": 3 * time.Second, "punch": client.PunchWindow}[cmd]
		if *timeout == 0 {
			*timeout = 10 * time.Second
		}
	}
	if needsServer(cmd) != (fs.NArg() == 1) || !needsServer(cmd) && fs.NArg() != 0 {
		return &exit{2, fmt.Sprintf("supernode-client %s: expected %s; see --help", cmd, map[bool]string{true: "one HOST:PORT argument", false: "no arguments"}[needsServer(cmd)])}
	}

	switch cmd {
	case "keygen":
		if *outFile == "" {
			return &exit{2, "supernode-client keygen: -o FILE is required"}
		}
		priv, err := client.GenerateKeyFile(*outFile)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, client.PublicHex(priv))
		return nil
	case "pubkey":
		if *keyFile == "" {
			return &exit{2, "supernode-client pubkey: -key FILE is required"}
		}
		priv, err := client.LoadKeyFile(*keyFile)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, client.PublicHex(priv))
		return nil
	case "binding":
		c, err := client.Dial(fs.Arg(0), *bind, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		tctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		mapped, err := c.Binding(tctx)
		if err != nil {
			return fmt.Errorf("binding with %s: %v", fs.Arg(0), err)
		}
		fmt.Fprintf(out, "mapped %s\n", mapped)
		return nil
	}

	// Commands that register first.
	if *keyFile == "" {
		return &exit{2, fmt.Sprintf("supernode-client %s: -key FILE is required (create one with keygen)", cmd)}
	}
	priv, err := client.LoadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	var target [32]byte
	if peerHex != nil {
		if *peerHex == "" {
			return &exit{2, fmt.Sprintf("supernode-client %s: -peer HEX is required", cmd)}
		}
		if target, err = client.ParsePeerID(*peerHex); err != nil {
			return &exit{2, err.Error()}
		}
	}
	c, err := client.Dial(fs.Arg(0), *bind, priv)
	if err != nil {
		return err
	}
	defer c.Close()
	rctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	mapped, err := c.Register(rctx)
	if err != nil {
		return fmt.Errorf("register with %s: %v", fs.Arg(0), err)
	}
	// Leave on the way out (best effort) so the directory does not keep
	// a peer that is gone until its lease runs out; "register -once" is
	// the exception: its registration is meant to outlive the process.
	defer func() {
		if once != nil && *once {
			return
		}
		lctx, lcancel := context.WithTimeout(context.Background(), time.Second)
		c.Leave(lctx)
		lcancel()
	}()

	switch cmd {
	case "register", "listen":
		fmt.Fprintf(out, "registered mapped=%s lease=%s\n", mapped, c.Lease())
		if once != nil && *once {
			return nil
		}
		go c.KeepAlive(ctx, func(err error) { fmt.Fprintln(os.Stderr, "keepalive:", err) })
		if cmd == "listen" {
			c.Listen(ctx, out)
		} else {
			<-ctx.Done()
		}
		return nil
	case "lookup":
		p, err := c.Lookup(rctx, target)
		if err == client.ErrNotFound {
			return &exit{3, "not found"}
		}
		if err != nil {
			return fmt.Errorf("lookup: %v", err)
		}
		local := make([]string, len(p.Local))
		for i, a := range p.Local {
			local[i] = a.String()
		}
		fmt.Fprintf(out, "peer %s reflexive=%s local=%s\n", *peerHex, p.Reflexive, strings.Join(local, ","))
		return nil
	case "punch":
		p, err := c.Lookup(rctx, target)
		if err == client.ErrNotFound {
			return &exit{3, "not found"}
		}
		if err != nil {
			return fmt.Errorf("lookup: %v", err)
		}
		res, err := c.PunchAndSend(rctx, p, *message)
		if err != nil {
			return &exit{1, fmt.Sprintf("punch: %v", err)}
		}
		fmt.Fprintf(out, "direct %s\nreply %s\n", res.From, res.Reply)
		return nil
	}
	return nil
}

func needsServer(cmd string) bool { return cmd != "keygen" && cmd != "pubkey" }

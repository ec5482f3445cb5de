// Command supernode-client generates peer keys and talks to a supernode:
// STUN Binding, register + keepalive, lookup, listen for introductions, and
// punch through NATs to a peer. Data lines go to stdout, one record per line;
// diagnostics go to stderr. Exit status: 0 success, 1 failure or timeout,
// 2 usage error, 3 peer not found, 4 the server has no second address
// (nat-type).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/supernode-appliance/appliance/internal/version"
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
  nat-type [-json] [-bind IP] [-wait 1s] -server HOST:PORT  (or HOST:PORT as argument)
                                           RFC 5780 NAT behaviour discovery: prints
                                           "nat yes|no", "mapping B", "filtering B" with B one of
                                           endpoint-independent, address-dependent,
                                           address-and-port-dependent (mapping "none" without NAT)
  port-map [-gateway IP] -port N [-external N] [-lifetime 2h] [-json]
                                           ask the router (NAT-PMP, RFC 6886; PCP routers answer it
                                           too) to map UDP port N: prints "mapped udp IP:PORT
                                           internal=N lifetime=Ns"; -lifetime 0 deletes the mapping
  --version                                print the version

register (without -once), listen and punch ask the gateway (PCP, else NAT-PMP)
to map their UDP port and announce the mapping as a candidate; -port-map=false
turns that off.

"supernode-client COMMAND --help" describes each command's flags.
Exit status: 0 success, 1 failure or timeout, 2 usage error, 3 peer not found,
4 the server has no second address (nat-type: discovery needs one).
`

// exit is an error that carries the process exit status.
type exit struct {
	code int
	msg  string
}

func (e *exit) Error() string { return e.msg }

// usageErr is a usage mistake: exit status 2, one line on stderr.
func usageErr(format string, a ...any) error {
	return &exit{2, "supernode-client: " + fmt.Sprintf(format, a...)}
}

func main() {
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}

// cli is main without the process: help and --version to stdout with exit
// status 0, every error to stderr once, prefixed "supernode-client:".
func cli(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, "supernode-client", version.Version)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err := runIO(ctx, args[0], args[1:], stdout, stderr)
	var e *exit
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &e):
		if e.msg != "" {
			fmt.Fprintln(stderr, e.msg)
		}
		return e.code
	default:
		fmt.Fprintln(stderr, "supernode-client:", err)
		return 1
	}
}

// options are every command's flags; each command defines the ones it takes.
type options struct {
	cmd     string
	stderr  io.Writer
	keyFile string
	bind    string
	timeout time.Duration
	outFile string
	peerHex string
	message string
	once    bool
	server  string // the HOST:PORT argument
	srvFlag string // nat-type's -server, the same as the argument
	json    bool
	wait    time.Duration
	gateway string
	port    int
	extPort int
	life    time.Duration
	portMap bool
}

// commands maps each command to its flags and its body.
var commands = map[string]struct {
	server bool // takes a HOST:PORT argument
	flags  func(*flag.FlagSet, *options)
	run    func(context.Context, *options, io.Writer, io.Writer) error
}{
	"keygen":   {false, flagsKeygen, cmdKeygen},
	"pubkey":   {false, flagsKey, cmdPubkey},
	"binding":  {true, flagsNet, cmdBinding},
	"register": {true, flagsRegister, cmdRegister},
	"listen":   {true, flagsListen, cmdRegister},
	"lookup":   {true, flagsLookup, cmdLookup},
	"punch":    {true, flagsPunch, cmdPunch},
	"nat-type": {true, flagsNATType, cmdNATType},
	"port-map": {false, flagsPortMap, cmdPortMap},
}

func flagsKeygen(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.outFile, "o", "", "file to write the new key to (must not exist)")
}

func flagsKey(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.keyFile, "key", "", "Ed25519 key file written by keygen")
}

func flagsNet(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.bind, "bind", "", "local IP:PORT to send from (default: any address, random port)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (binding 3s, punch 10s, others 10s for the registration)")
}

func flagsSession(fs *flag.FlagSet, o *options) { flagsKey(fs, o); flagsNet(fs, o) }

// flagPortMap is -port-map, for the commands that stay reachable at their
// port (register, listen, punch; not lookup or register -once, which exit
// at once).
func flagPortMap(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.portMap, "port-map", true, "ask the IPv4 default gateway (PCP, else NAT-PMP) to map our UDP port, announce the mapping as a candidate, renew it, delete it on exit; a gateway that does not answer within 250 ms does not hold up registration")
}

func flagsListen(fs *flag.FlagSet, o *options) { flagsSession(fs, o); flagPortMap(fs, o) }

func flagsRegister(fs *flag.FlagSet, o *options) {
	flagsListen(fs, o)
	fs.BoolVar(&o.once, "once", false, "exit after registering instead of keeping alive (no port mapping: it would be deleted at once)")
}

func flagsLookup(fs *flag.FlagSet, o *options) {
	flagsSession(fs, o)
	fs.StringVar(&o.peerHex, "peer", "", "peer public key (64 hex characters)")
}

func flagsPunch(fs *flag.FlagSet, o *options) {
	flagsLookup(fs, o)
	flagPortMap(fs, o)
	fs.StringVar(&o.message, "message", "hello", "text to send to the peer")
}

// run executes one command with diagnostics on stderr (tests call it).
func run(ctx context.Context, cmd string, args []string, out io.Writer) error {
	return runIO(ctx, cmd, args, out, os.Stderr)
}

func runIO(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	c, ok := commands[cmd]
	if !ok {
		return usageErr("unknown command %q; run supernode-client --help for the list", cmd)
	}
	o := &options{cmd: cmd, stderr: stderr}
	fs := flag.NewFlagSet("supernode-client "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are one line below; --help prints the flags
	c.flags(fs, o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: supernode-client %s [flags]%s\n", cmd, map[bool]string{true: " HOST:PORT"}[c.server])
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return err
		}
		return usageErr("%s: %v; see supernode-client %s --help", cmd, err, cmd)
	}
	if o.srvFlag != "" {
		if fs.NArg() != 0 {
			return usageErr("%s: give the server once, as -server or as the argument; see --help", cmd)
		}
		o.server = o.srvFlag
	} else if c.server != (fs.NArg() == 1) || !c.server && fs.NArg() != 0 {
		return usageErr("%s: expected %s; see --help", cmd, map[bool]string{true: "one HOST:PORT argument", false: "no arguments"}[c.server])
	}
	if o.server == "" {
		o.server = fs.Arg(0)
	}
	if o.timeout == 0 {
		switch cmd {
		case "binding":
			o.timeout = 3 * time.Second
		case "punch":
			o.timeout = client.PunchWindow
		default:
			o.timeout = 10 * time.Second
		}
	}
	return c.run(ctx, o, stdout, stderr)
}

func cmdKeygen(_ context.Context, o *options, out, _ io.Writer) error {
	if o.outFile == "" {
		return usageErr("keygen: -o FILE is required")
	}
	priv, err := client.GenerateKeyFile(o.outFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, client.PublicHex(priv))
	return nil
}

func cmdPubkey(_ context.Context, o *options, out, _ io.Writer) error {
	if o.keyFile == "" {
		return usageErr("pubkey: -key FILE is required")
	}
	priv, err := client.LoadKeyFile(o.keyFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, client.PublicHex(priv))
	return nil
}

func cmdBinding(ctx context.Context, o *options, out, _ io.Writer) error {
	c, err := client.Dial(o.server, o.bind, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	tctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	mapped, err := c.Binding(tctx)
	if err != nil {
		return fmt.Errorf("binding with %s: %v", o.server, err)
	}
	fmt.Fprintf(out, "mapped %s\n", mapped)
	return nil
}

// session is a registered client; close leaves the directory (best
// effort) so it does not keep a peer that is gone until its lease runs out.
type session struct {
	c      *client.Client
	mapped string
	ctx    context.Context // the registration's deadline, reused for one request
	cancel context.CancelFunc
}

func (s *session) close(leave bool) {
	if leave {
		lctx, lcancel := context.WithTimeout(context.Background(), time.Second)
		s.c.Leave(lctx)
		lcancel()
	}
	s.cancel()
	s.c.Close()
}

// register loads the key, dials and registers: the start of every command
// that talks to the directory.
func register(ctx context.Context, o *options) (*session, error) {
	if o.keyFile == "" {
		return nil, usageErr("%s: -key FILE is required (create one with keygen)", o.cmd)
	}
	priv, err := client.LoadKeyFile(o.keyFile)
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(o.server, o.bind, priv)
	if err != nil {
		return nil, err
	}
	if o.portMap && !o.once {
		mapPort(c, o.stderr)
	}
	rctx, cancel := context.WithTimeout(ctx, o.timeout)
	mapped, err := c.Register(rctx)
	if err != nil {
		cancel()
		c.Close()
		return nil, fmt.Errorf("register with %s: %v", o.server, err)
	}
	return &session{c: c, mapped: mapped.String(), ctx: rctx, cancel: cancel}, nil
}

// cmdRegister is "register" and "listen": register, print the mapping,
// keep alive (listen also prints introductions and echoes peers) until
// SIGTERM. "register -once" exits at once and does not leave: its
// registration is meant to outlive the process.
func cmdRegister(ctx context.Context, o *options, out, stderr io.Writer) error {
	s, err := register(ctx, o)
	if err != nil {
		return err
	}
	defer func() { s.close(!o.once) }()
	fmt.Fprintf(out, "registered mapped=%s lease=%s\n", s.mapped, s.c.Lease())
	if o.once {
		return nil
	}
	go s.c.KeepAlive(ctx, func(err error) { fmt.Fprintln(stderr, "supernode-client: keepalive:", err) })
	if o.cmd == "listen" {
		s.c.Listen(ctx, out)
	} else {
		<-ctx.Done()
	}
	return nil
}

// mapPort asks the default gateway for a port mapping (client.MapPort)
// and says on stderr what came of it; over IPv6, or without an IPv4
// default route, it says nothing.
func mapPort(c *client.Client, stderr io.Writer) {
	la := c.LocalAddr().Addr()
	if c.Server().Addr().IsLoopback() || la.Is6() && !la.IsUnspecified() {
		return // no gateway between us and the supernode; IPv6 is not translated
	}
	gw, err := client.DefaultGateway()
	if err != nil {
		return
	}
	m, err := c.MapPort(gw, client.PortMapWait)
	switch {
	case err == nil:
		fmt.Fprintf(stderr, "supernode-client: port mapping: the gateway %s mapped udp %s to our port %d for %s (%s); announced as a candidate\n", gw, m.External, m.Internal, m.Lifetime, m.Protocol)
	case errors.Is(err, client.ErrNoPortMapV6):
	default:
		fmt.Fprintf(stderr, "supernode-client: port mapping: none (%v)\n", err)
	}
}

// lookupPeer registers and looks up -peer.
func lookupPeer(ctx context.Context, o *options) (*session, *client.Peer, error) {
	if o.peerHex == "" {
		return nil, nil, usageErr("%s: -peer HEX is required", o.cmd)
	}
	target, err := client.ParsePeerID(o.peerHex)
	if err != nil {
		return nil, nil, usageErr("%s: %v", o.cmd, err)
	}
	s, err := register(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.c.Lookup(s.ctx, target)
	if errors.Is(err, client.ErrNotFound) {
		s.close(true)
		return nil, nil, &exit{3, "not found"}
	}
	if err != nil {
		s.close(true)
		return nil, nil, fmt.Errorf("lookup: %v", err)
	}
	return s, p, nil
}

func cmdLookup(ctx context.Context, o *options, out, _ io.Writer) error {
	s, p, err := lookupPeer(ctx, o)
	if err != nil {
		return err
	}
	defer s.close(true)
	local := make([]string, len(p.Local))
	for i, a := range p.Local {
		local[i] = a.String()
	}
	fmt.Fprintf(out, "peer %s reflexive=%s local=%s\n", o.peerHex, p.Reflexive, strings.Join(local, ","))
	return nil
}

func cmdPunch(ctx context.Context, o *options, out, _ io.Writer) error {
	s, p, err := lookupPeer(ctx, o)
	if err != nil {
		return err
	}
	defer s.close(true)
	res, err := s.c.PunchAndSend(s.ctx, p, o.message)
	if err != nil {
		return &exit{1, fmt.Sprintf("supernode-client: punch: %v", err)}
	}
	fmt.Fprintf(out, "direct %s\nreply %s\n", res.From, res.Reply)
	return nil
}

func flagsNATType(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.srvFlag, "server", "", "the STUN server (HOST:PORT), which needs a second address (a supernode with alternate_address, or any RFC 5780 server)")
	fs.StringVar(&o.bind, "bind", "", "local IP (or IP:PORT for the mapping test) to send from (default: the address the route to the server uses)")
	fs.BoolVar(&o.json, "json", false, "print the result as one JSON object")
	fs.DurationVar(&o.wait, "wait", time.Second, "how long one test waits for an answer (a filtered test takes this long)")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (default 10s)")
}

// cmdNATType runs RFC 5780 NAT behaviour discovery (client.DiscoverNAT).
func cmdNATType(ctx context.Context, o *options, out, _ io.Writer) error {
	if o.wait <= 0 {
		return usageErr("nat-type: -wait must be positive, for example 1s")
	}
	srv, err := client.ResolveServer(o.server)
	if err != nil {
		return usageErr("nat-type: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	r, err := client.DiscoverNAT(tctx, srv, o.bind, o.wait)
	if errors.Is(err, client.ErrNoSecondAddress) {
		return &exit{4, fmt.Sprintf("supernode-client: nat-type: %s: %v", srv, err)}
	}
	if err != nil {
		return fmt.Errorf("nat-type with %s: %v", srv, err)
	}
	if o.json {
		return json.NewEncoder(out).Encode(r)
	}
	fmt.Fprintf(out, "nat %s local=%s mapped=%s\n", map[bool]string{true: "yes", false: "no"}[r.NAT], r.Local, r.Mapped)
	fmt.Fprintf(out, "mapping %s\n", r.Mapping)
	fmt.Fprintf(out, "filtering %s\n", r.Filtering)
	return nil
}

func flagsPortMap(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.gateway, "gateway", "", "the router's LAN address (default: the IPv4 default route's gateway)")
	fs.IntVar(&o.port, "port", 0, "the local UDP port to map (required)")
	fs.IntVar(&o.extPort, "external", 0, "the public port to ask for (default: the router chooses)")
	fs.DurationVar(&o.life, "lifetime", 2*time.Hour, "how long the mapping lives (RFC 6886 recommends 2h); 0 deletes it")
	fs.BoolVar(&o.json, "json", false, "print the mapping as one JSON object")
}

// cmdPortMap asks the gateway for a UDP port mapping (client.MapUDP).
func cmdPortMap(ctx context.Context, o *options, out, _ io.Writer) error {
	if o.port < 1 || o.port > 65535 {
		return usageErr("port-map: -port N is required, 1 to 65535 (the local UDP port to map)")
	}
	if o.extPort < 0 || o.extPort > 65535 || o.life < 0 {
		return usageErr("port-map: -external must be 0 to 65535 and -lifetime 0 or more")
	}
	var gw netip.Addr
	if o.gateway != "" {
		a, err := netip.ParseAddr(o.gateway)
		if err != nil || !a.Is4() {
			return usageErr("port-map: -gateway %q is not an IPv4 address (NAT-PMP speaks IPv4 only)", o.gateway)
		}
		gw = a
	} else {
		a, err := client.DefaultGateway()
		if err != nil {
			return err
		}
		gw = a
	}
	tctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	m, err := client.MapUDP(tctx, gw, uint16(o.port), uint16(o.extPort), o.life)
	if err != nil {
		return fmt.Errorf("port-map: %v", err)
	}
	if o.json {
		return json.NewEncoder(out).Encode(m)
	}
	fmt.Fprintf(out, "mapped udp %s internal=%d lifetime=%ds gateway=%s\n", m.External, m.Internal, int(m.Lifetime/time.Second), m.Gateway)
	return nil
}

// Command stun-loadgen loads a STUN server with Binding requests for a fixed
// time and prints one line: rps=... answered=... lost=... p50=... p99=...
//
//	stun-loadgen [-duration 5s] [-sockets 4] [-window 32] 127.0.0.1:3478
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/supernode-appliance/appliance/tests/loadgen"
)

func main() {
	var cfg loadgen.Config
	fs := flag.NewFlagSet("stun-loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: stun-loadgen [flags] HOST:PORT\n\nSends STUN Binding requests (RFC 8489) for a fixed time and prints the\nanswered requests per second and the latency percentiles on one line.\n\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&cfg.Duration, "duration", 5e9, "how long to send")
	fs.IntVar(&cfg.Sockets, "sockets", 4, "parallel UDP sockets (source ports)")
	fs.IntVar(&cfg.Window, "window", 32, "requests in flight per socket")
	fs.IntVar(&cfg.Batch, "batch", 32, "datagrams per sendmmsg/recvmmsg call")
	fs.DurationVar(&cfg.Timeout, "timeout", 5e8, "after this an unanswered request counts as lost")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests per second over all sockets, paced (open loop within the window); 0: as fast as the window allows")
	fs.BoolVar(&cfg.CheckMapped, "check-mapped", true, "count answers whose XOR-MAPPED-ADDRESS is not our own address as bad (turn off behind NAT)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "stun-loadgen: give exactly one target, e.g. stun-loadgen 127.0.0.1:3478")
		os.Exit(2)
	}
	target, err := resolve(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "stun-loadgen: %v\n", err)
		os.Exit(2)
	}
	cfg.Target = target
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "stun-loadgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(res)
}

// resolve accepts IP:PORT or HOST:PORT (first address of the name).
func resolve(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	ua, err := net.ResolveUDPAddr("udp", s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target %q is not HOST:PORT: %v", s, err)
	}
	return ua.AddrPort(), nil
}

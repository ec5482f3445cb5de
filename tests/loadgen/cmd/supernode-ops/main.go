// Command supernode-ops measures the supernode's own methods over the wire:
// register (cookie round trip + signed registration), keepalive and lookup
// operations per second with p50/p99 latency, against a running daemon.
//
//	supernode-ops [-clients 64] [-duration 3s] [-ops register,keepalive,lookup] [-pid PID] HOST:PORT
//
// Unlike stun-loadgen, which must be foreign to both servers it compares,
// this tool drives the supernode's custom methods, which only the
// supernode's client library speaks; it uses that library (supernode/client)
// exactly as an application would. Each client is one UDP socket with one
// request in flight, so -clients is the concurrency. With -pid, it also
// reports the server process's CPU use during each phase, which tells
// whether the server or this generator was the limit.
//
// The server must not rate-limit the benchmark's single source address
// (rate_limit = 0).
package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
	"golang.org/x/sys/unix"
)

func main() {
	fs := flag.NewFlagSet("supernode-ops", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: supernode-ops [flags] HOST:PORT\n\nMeasures register, keepalive and lookup operations per second and their\np50/p99 latency against a running supernode; one line per operation.\n\n")
		fs.PrintDefaults()
	}
	nclients := fs.Int("clients", 64, "concurrent clients (one socket and one request in flight each)")
	duration := fs.Duration("duration", 3*time.Second, "how long to run each operation")
	ops := fs.String("ops", "register,keepalive,lookup", "operations to measure, comma-separated, in order")
	pid := fs.Int("pid", 0, "the server's process id, to report its CPU use (0: do not)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() != 1 || *nclients < 2 {
		fmt.Fprintln(os.Stderr, "supernode-ops: give one HOST:PORT and -clients >= 2, e.g. supernode-ops 127.0.0.1:3478")
		os.Exit(2)
	}
	server, err := client.ResolveServer(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(os.Stderr, "supernode-ops: %v\n", err)
		os.Exit(2)
	}
	clients, err := setup(server, *nclients)
	if err != nil {
		fmt.Fprintf(os.Stderr, "supernode-ops: %v\n", err)
		os.Exit(1)
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, op := range strings.Split(*ops, ",") {
		fn, ok := operations[strings.TrimSpace(op)]
		if !ok {
			fmt.Fprintf(os.Stderr, "supernode-ops: unknown operation %q; use register, keepalive or lookup\n", op)
			os.Exit(2)
		}
		r := measure(clients, *duration, fn, *pid)
		fmt.Printf("op=%s %s\n", strings.TrimSpace(op), r)
		if r.ok == 0 {
			fmt.Fprintf(os.Stderr, "supernode-ops: no %s succeeded\n", op)
			os.Exit(1)
		}
	}
}

// setup creates and registers n clients on loopback-reachable sockets.
func setup(server netip.AddrPort, n int) ([]*client.Client, error) {
	clients := make([]*client.Client, n)
	for i := range clients {
		_, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		conn, err := net.ListenUDP("udp", nil)
		if err != nil {
			return nil, fmt.Errorf("open a UDP socket: %v", err)
		}
		// Announce one candidate: candidate discovery is not measured.
		clients[i] = client.New(conn, server, priv, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.9:9")})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = clients[i].Register(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("register client %d with %s: %v", i, server, err)
		}
	}
	return clients, nil
}

type opFunc func(ctx context.Context, c *client.Client, others []*client.Client, i int) error

var operations = map[string]opFunc{
	"register": func(ctx context.Context, c *client.Client, _ []*client.Client, _ int) error {
		_, err := c.Register(ctx)
		return err
	},
	"keepalive": func(ctx context.Context, c *client.Client, _ []*client.Client, _ int) error {
		_, err := c.Keepalive(ctx)
		return err
	},
	"lookup": func(ctx context.Context, c *client.Client, all []*client.Client, i int) error {
		_, err := c.Lookup(ctx, all[(i+1)%len(all)].ID())
		return err
	},
}

type result struct {
	ok, failed int
	elapsed    time.Duration
	p50, p99   time.Duration
	serverCPU  float64 // cores, -1 if unknown
	selfCPU    float64
}

func (r result) String() string {
	s := fmt.Sprintf("ops_per_s=%.0f ok=%d failed=%d p50=%s p99=%s gen_cpu=%.2f",
		float64(r.ok)/r.elapsed.Seconds(), r.ok, r.failed, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.selfCPU)
	if r.serverCPU > 0 {
		// Operations per second of server CPU: what one fully busy core
		// would serve, a measure that other load on the machine disturbs
		// far less than ops_per_s.
		s += fmt.Sprintf(" server_cpu=%.2f ops_per_server_cpu_s=%.0f", r.serverCPU, float64(r.ok)/r.elapsed.Seconds()/r.serverCPU)
	}
	return s
}

// measure runs fn on every client in a loop for d and collects latencies.
func measure(clients []*client.Client, d time.Duration, fn opFunc, pid int) result {
	lat := make([][]time.Duration, len(clients))
	fails := make([]int, len(clients))
	s0, c0 := procCPU(pid), procCPU(0)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				t := time.Now()
				err := fn(ctx, c, clients, i)
				cancel()
				if err != nil {
					fails[i]++
					continue
				}
				lat[i] = append(lat[i], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	s1, c1 := procCPU(pid), procCPU(0)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := result{ok: len(all), elapsed: elapsed, serverCPU: -1, selfCPU: (c1 - c0).Seconds() / elapsed.Seconds()}
	for _, f := range fails {
		r.failed += f
	}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	if pid > 0 && s0 >= 0 && s1 >= 0 {
		r.serverCPU = (s1 - s0).Seconds() / elapsed.Seconds()
	}
	return r
}

// procCPU returns the user+system CPU time of process pid (0: ourselves),
// or -1 if it cannot be read.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		var ru unix.Rusage
		if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
			return -1
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of proc(5), in clock ticks (USER_HZ = 100 on Linux).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * (time.Second / 100)
}

package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supernode-appliance/appliance/supernode/client"
	"github.com/supernode-appliance/appliance/supernode/fleet"
	"github.com/supernode-appliance/appliance/supernode/server"
	"github.com/supernode-appliance/appliance/supernode/wire"
)

// BenchmarkWireLookup measures lookups over the wire, through the real
// server and client on loopback: "single" is one supernode with requester
// and target attached to it; the fleet cases are three in-process members
// (fleet + server each), targets attached to member A, requesters at member
// B. "fleet3" asks for every target (B owns 2/3 of them: local replica),
// "fleet3-forwarded" only for targets B does not own (one hop). Every lookup
// also introduces the requester to the target: locally in "single", routed
// through the fleet to A otherwise. Clients and all servers share this
// machine's cores, so compare the three, not the absolute rates.
//
//	go test -run '^$' -bench WireLookup ./tests/fleet/
func BenchmarkWireLookup(b *testing.B) {
	const targets = 64
	quiet := slog.New(slog.DiscardHandler)

	b.Run("single", func(b *testing.B) {
		srv := startServer(b, quiet)
		ids := registerTargets(b, srv, targets)
		runLookups(b, srv, ids)
	})

	nodes, srvs, regs := startBenchFleet(b, quiet)
	ids := registerTargets(b, srvs[0], targets)
	time.Sleep(200 * time.Millisecond) // replication
	b.Run("fleet3", func(b *testing.B) {
		m0, d0 := laneTotals(regs)
		runLookups(b, srvs[1], ids)
		m1, d1 := laneTotals(regs)
		reportBatch(b, m0, d0, m1, d1)
	})
	var remote []wire.PeerID
	for _, id := range ids {
		owned := false
		for _, o := range nodes[1].Owners(fleet.Key(id)) {
			owned = owned || o == nodes[1].Name()
		}
		if !owned {
			remote = append(remote, id)
		}
	}
	if len(remote) == 0 {
		b.Fatal("member B owns every target")
	}
	b.Run("fleet3-forwarded", func(b *testing.B) {
		m0, d0 := laneTotals(regs)
		runLookups(b, srvs[1], remote)
		m1, d1 := laneTotals(regs)
		reportBatch(b, m0, d0, m1, d1)
	})
}

// laneTotals sums supernode_fleet_lane_total{what} over the members: the
// lookups, answers and introductions they sent and the datagrams that
// carried them.
func laneTotals(regs []*prometheus.Registry) (messages, datagrams float64) {
	for _, r := range regs {
		mfs, _ := r.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "supernode_fleet_lane_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				switch m.GetLabel()[0].GetValue() {
				case "messages":
					messages += m.GetCounter().GetValue()
				case "datagrams":
					datagrams += m.GetCounter().GetValue()
				}
			}
		}
	}
	return messages, datagrams
}

// reportBatch reports the data channel's messages per datagram and
// datagrams per lookup over the run.
func reportBatch(b *testing.B, m0, d0 float64, m1, d1 float64) {
	if d1 > d0 {
		b.ReportMetric((m1-m0)/(d1-d0), "msgs/datagram")
		b.ReportMetric((d1-d0)/float64(b.N), "datagrams/lookup")
	}
}

// startBenchFleet starts three in-process members on loopback, each a fleet
// node with the real server on top, wired as the daemon should be.
func startBenchFleet(b *testing.B, quiet *slog.Logger) ([]*fleet.Node, []*server.Server, []*prometheus.Registry) {
	key := make([]byte, 32)
	rand.Read(key)
	var nodes []*fleet.Node
	var srvs []*server.Server
	var regs []*prometheus.Registry
	var seeds []string
	for i := 0; i < 3; i++ {
		cfg := fleet.DefaultConfig()
		cfg.Name = fmt.Sprintf("bench-%d", i)
		cfg.Bind = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), freePort(b))
		cfg.DataPort = freePort(b)
		cfg.Keys = []string{base64.StdEncoding.EncodeToString(key)}
		cfg.Seeds = seeds
		sc := benchServerConfig()
		reg := prometheus.NewRegistry()
		regs = append(regs, reg)
		n, bind, err := fleet.Attach(&sc, cfg, quiet, reg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close() })
		srv := startServerConfig(b, sc, quiet)
		bind(srv)
		nodes, srvs = append(nodes, n), append(srvs, srv)
		seeds = []string{cfg.Bind.String()}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if len(nodes[0].Members()) == 3 && len(nodes[1].Members()) == 3 && len(nodes[2].Members()) == 3 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the bench fleet did not form")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nodes, srvs, regs
}

// BenchmarkWireKeepalive measures keepalives over the wire: "single" on one
// supernode, "fleet3" at a member of a 3-member fleet, where every
// keepalive also refreshes the peer's replicas on its owners. The CPU
// difference is the fleet's cost per keepalive, the largest term of the
// sizing estimate in supernode/fleet/README.md.
func BenchmarkWireKeepalive(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	run := func(b *testing.B, srv *server.Server) {
		b.SetParallelism(8)
		var failed atomic.Int64
		cpu0 := cpuTime()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			c := newClient(b, srv)
			defer c.Close()
			for pb.Next() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if _, err := c.Keepalive(ctx); err != nil {
					failed.Add(1)
				}
				cancel()
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keepalives/s")
		b.ReportMetric(float64(failed.Load())/float64(b.N), "failed/op")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/keepalive")
	}
	b.Run("single", func(b *testing.B) { run(b, startServer(b, quiet)) })
	_, srvs, _ := startBenchFleet(b, quiet)
	b.Run("fleet3", func(b *testing.B) { run(b, srvs[0]) })
}

func benchServerConfig() server.Config {
	cfg := server.Defaults()
	cfg.Listen = []string{"127.0.0.1:0"}
	cfg.Sockets = 1
	cfg.RateLimit = 0 // every benchmark client has the same source address
	// A few targets are looked up over and over: without this the
	// introduction budgets answer most lookups 429 and the benchmark
	// measures refusals.
	cfg.IntroduceRate = 0
	cfg.MaxPeers = 100000
	return cfg
}

// startServer starts a supernode without a fleet.
func startServer(b *testing.B, log *slog.Logger) *server.Server {
	return startServerConfig(b, benchServerConfig(), log)
}

func startServerConfig(b *testing.B, cfg server.Config, log *slog.Logger) *server.Server {
	srv, err := server.New(cfg, log, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return srv
}

func newClient(b *testing.B, srv *server.Server) *client.Client {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	c, err := client.Dial(srv.Addrs()[0].String(), "127.0.0.1:0", priv)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Register(ctx); err != nil {
		b.Fatal(err)
	}
	return c
}

func registerTargets(b *testing.B, srv *server.Server, n int) []wire.PeerID {
	var ids []wire.PeerID
	for i := 0; i < n; i++ {
		c := newClient(b, srv)
		b.Cleanup(func() { c.Close() })
		ids = append(ids, c.ID())
	}
	return ids
}

func runLookups(b *testing.B, srv *server.Server, ids []wire.PeerID) {
	b.SetParallelism(benchParallelism())
	var failed atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := newClient(b, srv)
		defer c.Close()
		i := 0
		for pb.Next() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if _, err := c.Lookup(ctx, ids[i%len(ids)]); err != nil {
				failed.Add(1)
			}
			cancel()
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(failed.Load())/float64(b.N), "failed/op")
	// Everything runs in this process: clients, servers, fleet members.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/lookup")
}

// benchParallelism is requesters per core (testing.B.SetParallelism), each
// with one lookup in flight: 8 unless FLEET_BENCH_PARALLELISM says
// otherwise (more in flight means fuller batches on the data channel).
func benchParallelism() int {
	if p, err := strconv.Atoi(os.Getenv("FLEET_BENCH_PARALLELISM")); err == nil && p > 0 {
		return p
	}
	return 8
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func freePort(b *testing.B) uint16 {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err == nil {
			u.Close()
			return uint16(p)
		}
	}
}

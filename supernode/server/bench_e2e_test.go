package server

import (
	"context"
	"testing"

	"github.com/supernode-appliance/appliance/supernode/client"
)

// End-to-end over loopback sockets with the client library, one request in
// flight: ops/s is 1/RTT including both kernels' UDP paths and the client's
// own work (register: two round trips, an Ed25519 signature, X25519).

func e2e(b *testing.B, n int) []*client.Client {
	s := start(b, func(c *Config) {
		c.Listen = []string{"127.0.0.1:0"}
		c.RateLimit = 0
		c.IntroduceRate = 0 // one requester looks one target up over and over
	})
	cs := make([]*client.Client, n)
	for i := range cs {
		cs[i] = newClient(b, s.Addrs()[0], true)
		if _, err := cs[i].Register(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return cs
}

func BenchmarkE2ERegister(b *testing.B) {
	c := e2e(b, 1)[0]
	latencies(b, func(int) {
		if _, err := c.Register(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkE2EKeepalive(b *testing.B) {
	c := e2e(b, 1)[0]
	latencies(b, func(int) {
		if _, err := c.Keepalive(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkE2ELookup(b *testing.B) {
	cs := e2e(b, 2)
	latencies(b, func(int) {
		if _, err := cs[0].Lookup(context.Background(), cs[1].ID()); err != nil {
			b.Fatal(err)
		}
	})
}

package server

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestReusePortKeepsSourceOnOneSocket states the steering the workers rely
// on: the kernel picks a SO_REUSEPORT socket by a hash of the 4-tuple, so
// every datagram from one source address lands on the same socket, hence
// the same worker (its rate-limit and replay state never race with
// another worker's), while different sources spread over the sockets.
func TestReusePortKeepsSourceOnOneSocket(t *testing.T) {
	const sockets, sources, perSource = 4, 32, 20
	conns, err := listen(context.Background(), "127.0.0.1:0", sockets)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	to := conns[0].LocalAddr().(*net.UDPAddr)
	var clients []*net.UDPConn
	for i := 0; i < sources; i++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	for round := 0; round < perSource; round++ {
		for i, c := range clients {
			if _, err := c.WriteToUDP([]byte{byte(i), byte(round)}, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Read everything that arrived (loopback does not lose datagrams
	// into 4 MiB buffers; a read deadline only ends each socket's drain).
	seen := make(map[string]map[int]int) // source -> socket -> datagrams
	total := 0
	buf := make([]byte, 16)
	for k, c := range conns {
		for {
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, from, err := c.ReadFromUDP(buf)
			if err != nil {
				break
			}
			if seen[from.String()] == nil {
				seen[from.String()] = map[int]int{}
			}
			seen[from.String()][k]++
			total++
		}
	}
	if total != sources*perSource {
		t.Fatalf("received %d of %d datagrams", total, sources*perSource)
	}
	used := map[int]bool{}
	for src, by := range seen {
		if len(by) != 1 {
			t.Errorf("source %s landed on %d sockets: %v", src, len(by), by)
		}
		for k := range by {
			used[k] = true
		}
	}
	// 32 sources all hashed to one of 4 sockets: probability 4^-31.
	if len(used) < 2 {
		t.Errorf("%d sources all landed on one socket of %d", sources, sockets)
	}
}

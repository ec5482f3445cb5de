package server

import (
	"bufio"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestSocketReporter speaks the XDP controller's line protocol with a
// listener that answers like supernode-xdp: one "block" line in, "ok" or
// "error: ..." out; the reporter must send the right line, survive a
// refusal and reconnect after the controller restarts.
func TestSocketReporter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.sock")
	lines := make(chan string, 10)
	var mu sync.Mutex
	var conns []net.Conn
	serve := func() net.Listener {
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				go func() {
					defer c.Close()
					r := bufio.NewReader(c)
					for {
						l, err := r.ReadString('\n')
						if err != nil {
							return
						}
						lines <- l
						if l == "block 192.0.2.66 600 refuse-me\n" {
							c.Write([]byte("error: address is on the allow list\n"))
						} else {
							c.Write([]byte("ok\n"))
						}
					}
				}()
			}
		}()
		return ln
	}
	ln := serve()
	results := make(chan string, 10)
	r := NewSocketReporter(path, 10*time.Minute, quiet, func(s string) { results <- s })
	defer r.Close()

	expect := func(line, result string) {
		t.Helper()
		select {
		case l := <-lines:
			if l != line {
				t.Fatalf("controller got %q, want %q", l, line)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("controller got nothing, want %q", line)
		}
		if got := <-results; got != result {
			t.Fatalf("result %q, want %q", got, result)
		}
	}
	r.Report(netip.MustParseAddr("::ffff:198.51.100.9"), "rate_limited")
	expect("block 198.51.100.9 600 rate_limited\n", "ok")
	r.Report(netip.MustParseAddr("192.0.2.66"), "refuse-me")
	expect("block 192.0.2.66 600 refuse-me\n", "error")

	// Controller restart: the old connection dies, the next report redials.
	ln.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	ln = serve()
	defer ln.Close()
	r.Report(netip.MustParseAddr("2001:db8::1"), "bad_signature")
	expect("block 2001:db8::1 600 bad_signature\n", "ok")
}

package server

import (
	"strings"
	"testing"
)

// TestSecondServerOnSamePortRefused (issue #20 item 4): a second server on
// a port that another socket serves must refuse to start, with one sentence
// naming the port, instead of joining the SO_REUSEPORT group and taking
// half the peers into a directory of its own.
func TestSecondServerOnSamePortRefused(t *testing.T) {
	first := start(t, func(c *Config) { c.Listen = []string{"127.0.0.1:0"} })
	port := first.Addrs()[0].String()
	for _, listen := range []string{port, ":" + strings.Split(port, ":")[1]} {
		cfg := Defaults()
		cfg.Listen, cfg.Sockets = []string{listen}, 2
		s, err := New(cfg, nil, nil)
		if err == nil {
			s.Close()
			t.Fatalf("a second server on %s started next to the first", listen)
		}
		if !strings.Contains(err.Error(), "already served by another process") || !strings.Contains(err.Error(), "change listen") {
			t.Fatalf("error %q does not say what and how to fix", err)
		}
	}
	// A different port is fine.
	other := start(t, func(c *Config) { c.Listen = []string{"127.0.0.1:0"} })
	if other.Addrs()[0] == first.Addrs()[0] {
		t.Fatal("same address")
	}
}

func TestParseProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:0D96":                         "127.0.0.1:3478",
		"00000000000000000000000000000000:0D96": "[::]:3478",
		"0000000000000000FFFF00000100007F:1F90": "127.0.0.1:8080",
	} {
		got, ok := parseProcAddr(in)
		if !ok || got.String() != want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
}

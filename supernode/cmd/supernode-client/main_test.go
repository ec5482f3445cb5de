package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/server"
)

// TestCLIContract runs the commands in-process against a real server on
// loopback and checks the output lines and exit codes the netns tests and
// operators rely on.
func TestCLIContract(t *testing.T) {
	cfg := server.Defaults()
	cfg.Listen = []string{"127.0.0.1:0"}
	cfg.Sockets = 1
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx)
	srv := s.Addrs()[0].String()
	dir := t.TempDir()

	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := run(c, args[0], args[1:], &out)
		return out.String(), err
	}
	code := func(err error) int {
		var e *exit
		if errors.As(err, &e) {
			return e.code
		}
		if err != nil {
			return 1
		}
		return 0
	}

	ka, kb := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	pubA, err := cli("keygen", "-o", ka)
	if err != nil || len(strings.TrimSpace(pubA)) != 64 {
		t.Fatalf("keygen: %q %v", pubA, err)
	}
	pubB, _ := cli("keygen", "-o", kb)
	pubB = strings.TrimSpace(pubB)
	if again, err := cli("pubkey", "-key", ka); err != nil || again != pubA {
		t.Fatalf("pubkey: %q %v", again, err)
	}
	if out, err := cli("binding", srv); err != nil || !strings.HasPrefix(out, "mapped 127.0.0.1:") {
		t.Fatalf("binding: %q %v", out, err)
	}
	if _, err := cli("lookup", "-key", ka, "-peer", pubB, srv); code(err) != 3 || err.Error() != "not found" {
		t.Fatalf("lookup of an absent peer: exit %d %v", code(err), err)
	}
	out, err := cli("register", "-key", kb, "-once", srv)
	if err != nil || !strings.HasPrefix(out, "registered mapped=127.0.0.1:") || !strings.HasSuffix(out, " lease=30s\n") {
		t.Fatalf("register: %q %v", out, err)
	}
	out, err = cli("lookup", "-key", ka, "-peer", pubB, srv)
	if err != nil || !strings.HasPrefix(out, "peer "+pubB+" reflexive=127.0.0.1:") || !strings.Contains(out, " local=") {
		t.Fatalf("lookup: %q %v", out, err)
	}
	for _, bad := range [][]string{
		{"binding"},                 // no server
		{"lookup", "-key", ka, srv}, // no -peer
		{"lookup", "-key", ka, "-peer", "xyz", srv},
		{"frobnicate"},
		{"keygen"},
	} {
		if _, err := cli(bad...); code(err) != 2 {
			t.Errorf("%v: exit %d (%v), want 2", bad, code(err), err)
		}
	}
	if _, err := cli("keygen", "-o", ka); code(err) != 1 {
		t.Errorf("keygen over an existing file: exit %d", code(err))
	}
}

// Help and --version go to stdout with exit 0; usage errors are one line
// on stderr with exit 2 and one "supernode-client:" prefix.
func TestHelpVersionUsage(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		out, err   string
		errOneLine bool
	}{
		{[]string{"--help"}, 0, "usage: supernode-client COMMAND", "", false},
		{[]string{"--version"}, 0, "supernode-client ", "", false},
		{[]string{"lookup", "--help"}, 0, "-peer", "", false},
		{[]string{}, 2, "", "usage: supernode-client COMMAND", false},
		{[]string{"frobnicate"}, 2, "", "supernode-client: unknown command", true},
		{[]string{"binding", "-bogus", "x:1"}, 2, "", "supernode-client: binding: flag provided but not defined: -bogus", true},
		{[]string{"keygen"}, 2, "", "supernode-client: keygen: -o FILE is required", true},
		{[]string{"nat-type", "--help"}, 0, "-server", "", false},
		{[]string{"nat-type"}, 2, "", "supernode-client: nat-type: expected one HOST:PORT argument", true},
		{[]string{"nat-type", "-server", "127.0.0.1:1", "127.0.0.1:2"}, 2, "", "supernode-client: nat-type: give the server once", true},
		{[]string{"nat-type", "-wait", "0s", "-server", "127.0.0.1:1"}, 2, "", "supernode-client: nat-type: -wait must be positive", true},
		{[]string{"port-map", "--help"}, 0, "-lifetime", "", false},
		{[]string{"port-map"}, 2, "", "supernode-client: port-map: -port N is required", true},
		{[]string{"port-map", "-port", "5000", "-gateway", "fd00::1"}, 2, "", "supernode-client: port-map: -gateway \"fd00::1\" is not an IPv4 address", true},
		{[]string{"port-map", "-port", "5000", "127.0.0.1:1"}, 2, "", "supernode-client: port-map: expected no arguments", true},
	} {
		var out, errb bytes.Buffer
		code := cli(c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.err) ||
			c.err == "" && errb.Len() > 0 || c.out == "" && out.Len() > 0 ||
			c.errOneLine && (strings.Count(errb.String(), "\n") != 1 || strings.Count(errb.String(), "supernode-client:") != 1) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out.String(), errb.String())
		}
	}
}

// TestNATTypeCLI: nat-type against a real server with a second address
// (127.0.0.2) prints the three lines, or one JSON object with -json; a
// server with one address exits 4 with the sentence saying discovery needs
// a second address.
func TestNATTypeCLI(t *testing.T) {
	srv := func(alt string) string {
		cfg := server.Defaults()
		cfg.Listen, cfg.Sockets = []string{"127.0.0.1:0"}, 1
		cfg.AlternateAddress, cfg.AlternatePort = alt, 0
		s, err := server.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		go s.Serve(ctx)
		return s.Addrs()[0].String()
	}
	two, one := srv("127.0.0.2"), srv("")
	var out, errb bytes.Buffer
	if code := cli([]string{"nat-type", "-server", two}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "nat no local=127.0.0.1:") || lines[1] != "mapping none" || lines[2] != "filtering endpoint-independent" {
		t.Fatalf("output %q", out.String())
	}
	out.Reset()
	if code := cli([]string{"nat-type", "-json", two}, &out, &errb); code != 0 {
		t.Fatalf("-json: exit %d: %s", code, errb.String())
	}
	var r struct {
		NAT       bool   `json:"nat"`
		Mapping   string `json:"mapping"`
		Filtering string `json:"filtering"`
		Other     string `json:"other_address"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.NAT || r.Mapping != "none" || r.Filtering != "endpoint-independent" || !strings.HasPrefix(r.Other, "127.0.0.2:") {
		t.Fatalf("-json %q: %+v %v", out.String(), r, err)
	}
	out.Reset()
	errb.Reset()
	code := cli([]string{"nat-type", "-server", one}, &out, &errb)
	if code != 4 || out.Len() != 0 || !strings.Contains(errb.String(), "discovery needs a second address") || strings.Count(errb.String(), "\n") != 1 {
		t.Fatalf("one address: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

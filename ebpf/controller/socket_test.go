package controller

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseRequest(t *testing.T) {
	ok := []struct {
		line string
		want request
	}{
		{"block 192.0.2.7 60 stun-flood", request{cmd: "block", addr: netip.MustParseAddr("192.0.2.7"), ttl: time.Minute, reason: "stun-flood"}},
		{"block 2001:db8::1 3600 too many registrations", request{cmd: "block", addr: netip.MustParseAddr("2001:db8::1"), ttl: time.Hour, reason: "too many registrations"}},
		{"block ::ffff:192.0.2.7 1", request{cmd: "block", addr: netip.MustParseAddr("192.0.2.7"), ttl: time.Second, reason: "-"}},
		{"force-block 192.0.2.7 60 operator", request{cmd: "block", force: true, addr: netip.MustParseAddr("192.0.2.7"), ttl: time.Minute, reason: "operator"}},
		{"unblock 192.0.2.7", request{cmd: "unblock", addr: netip.MustParseAddr("192.0.2.7")}},
		{"list", request{cmd: "list"}},
		{"counters", request{cmd: "counters"}},
		{"counters eth0", request{cmd: "counters", iface: "eth0"}},
		{"interfaces", request{cmd: "interfaces"}},
		{"  status  ", request{cmd: "status"}},
	}
	for _, tc := range ok {
		got, err := parseRequest(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("parseRequest(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	bad := map[string]string{
		"":                              "empty",
		"block":                         "usage",
		"block 192.0.2.7":               "usage",
		"block nope 60 x":               "not an IP",
		"block fe80::1%eth0 5 x":        "not an IP",
		"block 192.0.2.7 0 x":           "seconds",
		"block 192.0.2.7 -5 x":          "seconds",
		"block 192.0.2.7 1h x":          "seconds",
		"block 192.0.2.7 99999999999 x": "seconds",
		"force-block 192.0.2.7":         "usage: force-block",
		"unblock":                       "usage",
		"unblock 1.2.3.4 5":             "usage",
		"list all":                      "usage",
		"counters eth0 eth1":            "usage",
		"flush":                         "unknown command",
	}
	for line, want := range bad {
		_, err := parseRequest(line)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRequest(%q) error = %v, want it to mention %q", line, err, want)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"block 192.0.2.7 60 x", "unblock ::1", "list", "counters", "block 1.2.3.4 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseRequest(line)
		if err != nil {
			return
		}
		switch r.cmd {
		case "block":
			if !r.addr.IsValid() || r.ttl <= 0 || r.reason == "" {
				t.Fatalf("accepted block with %+v", r)
			}
		case "unblock":
			if !r.addr.IsValid() {
				t.Fatalf("accepted unblock with %+v", r)
			}
		}
	})
}

// TestMayForce: only root or the controller's own user may force a block
// past the never-block list; the supernode's user may not.
func TestMayForce(t *testing.T) {
	for _, tc := range []struct {
		cred *unix.Ucred
		want bool
	}{
		{nil, false},
		{&unix.Ucred{Uid: 0}, true},
		{&unix.Ucred{Uid: uint32(os.Getuid())}, true},
		{&unix.Ucred{Uid: 61234}, os.Getuid() == 61234},
	} {
		if got := mayForce(tc.cred); got != tc.want {
			t.Errorf("mayForce(%+v) = %v, want %v", tc.cred, got, tc.want)
		}
	}
}

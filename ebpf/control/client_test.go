package control

import (
	"bufio"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scripted serves canned answers by request line, so the client's parsing
// of every answer form (data lines, ok, error, malformed) is pinned down.
// The real server is exercised end to end in tests/xdp.
func scripted(t *testing.T, answers map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					a, ok := answers[strings.TrimSuffix(line, "\n")]
					if !ok {
						a = "error: unknown command\n"
					}
					conn.Write([]byte(a))
				}
			}()
		}
	}()
	return path
}

func TestClient(t *testing.T) {
	path := scripted(t, map[string]string{
		"block 192.0.2.7 90 flood": "ok\n",
		"block 192.0.2.8 1 -":      "ok\n",
		"block 192.0.2.9 60 x":     "error: ttl 60s is out of range\n",
		"unblock 2001:db8::1":      "ok\n",
		"list":                     "192.0.2.7 90 flood from peer\n2001:db8::1 5\nok\n",
		"counters":                 "pass_service 10 600\ndrop_bogon 3 180\nok\n",
		"counters eth1":            "pass_service 4 240\nok\n",
		"interfaces":               "eth0 2 native 41\neth1 3 generic\nok\n",
		"status":                   "version dev\ninterfaces eth0:native\nok\n",
	})
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Block(netip.MustParseAddr("192.0.2.7"), 90*time.Second, "flood"); err != nil {
		t.Error(err)
	}
	// TTLs round up to whole seconds; an empty reason is sent as "-".
	if err := c.Block(netip.MustParseAddr("192.0.2.8"), 10*time.Millisecond, " "); err != nil {
		t.Error(err)
	}
	var ce *Error
	if err := c.Block(netip.MustParseAddr("192.0.2.9"), time.Minute, "x"); !errors.As(err, &ce) || ce.Text != "ttl 60s is out of range" {
		t.Errorf("error answer: %v", err)
	}
	if err := c.Unblock(netip.MustParseAddr("2001:db8::1")); err != nil {
		t.Error(err)
	}
	bs, err := c.List()
	if err != nil || len(bs) != 2 || bs[0].Reason != "flood from peer" || bs[1].Reason != "" ||
		time.Until(bs[0].Expires) < 85*time.Second || bs[1].Addr != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("List = %+v, %v", bs, err)
	}
	ks, err := c.Counters()
	if err != nil || len(ks) != 2 || ks[1] != (Counter{"drop_bogon", 3, 180}) {
		t.Errorf("Counters = %+v, %v", ks, err)
	}
	ks, err = c.InterfaceCounters("eth1")
	if err != nil || len(ks) != 1 || ks[0] != (Counter{"pass_service", 4, 240}) {
		t.Errorf("InterfaceCounters = %+v, %v", ks, err)
	}
	if _, err := c.InterfaceCounters("eth1 status"); err == nil {
		t.Error("InterfaceCounters sent a name with a space")
	}
	// The program id is the fourth field; older controllers sent three.
	is, err := c.Interfaces()
	if err != nil || len(is) != 2 || is[0] != (Interface{"eth0", 2, "native", 41}) || is[1] != (Interface{"eth1", 3, "generic", 0}) {
		t.Errorf("Interfaces = %+v, %v", is, err)
	}
	st, err := c.Status()
	if err != nil || len(st) != 2 || st[1] != [2]string{"interfaces", "eth0:native"} {
		t.Errorf("Status = %+v, %v", st, err)
	}
	if _, err := c.Do("list\nunblock 1.2.3.4"); err == nil {
		t.Error("a request with a newline was sent")
	}
}

func TestClientMalformed(t *testing.T) {
	path := scripted(t, map[string]string{
		"list":       "not-an-ip 5\nok\n",
		"counters":   "drop_bogon three 1\nok\n",
		"interfaces": "eth0 two native\nok\n",
	})
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.List(); err == nil {
		t.Error("List accepted a malformed line")
	}
	if _, err := c.Counters(); err == nil {
		t.Error("Counters accepted a malformed line")
	}
	if _, err := c.Interfaces(); err == nil {
		t.Error("Interfaces accepted a malformed line")
	}
}

func TestDialNoServer(t *testing.T) {
	_, err := Dial(filepath.Join(t.TempDir(), "none.sock"))
	if err == nil || !strings.Contains(err.Error(), "is supernode-xdp running") {
		t.Errorf("Dial without a server: %v", err)
	}
}

// TestBlockAs: the answer names the prefix and TTL granted (an IPv6 block
// is its /64, a long TTL shortened); force-block is a command of its own;
// list shows a /64 as a prefix.
func TestBlockAs(t *testing.T) {
	path := scripted(t, map[string]string{
		"block 2001:db8::7 3600 flood":        "blocked 2001:db8::/64 600\nok\n",
		"force-block 192.0.2.1 3600 operator": "blocked 192.0.2.1 3600\nok\n",
		"list":                                "2001:db8::/64 599 flood\n192.0.2.1 3599\nok\n",
	})
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.BlockAs(netip.MustParseAddr("2001:db8::7"), time.Hour, "flood", false)
	if err != nil || got.Prefix != netip.MustParsePrefix("2001:db8::/64") || got.TTL != 10*time.Minute {
		t.Errorf("BlockAs = %+v, %v; want 2001:db8::/64 for 10m", got, err)
	}
	got, err = c.BlockAs(netip.MustParseAddr("192.0.2.1"), time.Hour, "operator", true)
	if err != nil || got.Prefix != netip.MustParsePrefix("192.0.2.1/32") || got.TTL != time.Hour {
		t.Errorf("forced BlockAs = %+v, %v", got, err)
	}
	bs, err := c.List()
	if err != nil || len(bs) != 2 || bs[0].Prefix != netip.MustParsePrefix("2001:db8::/64") || bs[0].Addr != netip.MustParseAddr("2001:db8::") || bs[1].Prefix.Bits() != 32 {
		t.Errorf("List = %+v, %v", bs, err)
	}
	for _, p := range []string{"2001:db8::/64", "192.0.2.1/32"} {
		if s := FormatBlock(netip.MustParsePrefix(p)); s != strings.TrimSuffix(p, "/32") {
			t.Errorf("FormatBlock(%s) = %s", p, s)
		}
	}
}

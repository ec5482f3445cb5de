package xdp

import (
	"strings"
	"testing"
	"time"
)

// TestGenericFallback: a bridge has no driver (native) XDP support. With
// mode = auto the controller falls back to generic mode and reports the
// mode the kernel reports; with mode = native it refuses and says why.
func TestGenericFallback(t *testing.T) {
	e := newEnv(t, "mode = auto\ninterfaces = vb*, sxbr*\n")
	e.rcv.Exec(t, "ip", "link", "add", "sxbr0", "type", "bridge")
	e.rcv.Exec(t, "ip", "link", "set", "sxbr0", "up")
	modes := func() map[string]string {
		m := map[string]string{}
		ifs, _ := e.client().Interfaces()
		for _, i := range ifs {
			m[i.Name] = i.Mode
		}
		return m
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && modes()["sxbr0"] == "" {
		time.Sleep(20 * time.Millisecond)
	}
	if m := modes(); m["sxbr0"] != "generic" || m[e.rcvIf] != "native" {
		t.Fatalf("modes %v; want sxbr0 generic (fallback) and %s native", m, e.rcvIf)
	}
	out := e.rcv.Exec(t, "ip", "link", "show", "dev", "sxbr0")
	if !strings.Contains(out, "xdpgeneric") {
		t.Errorf("the kernel does not show generic XDP on sxbr0:\n%s", out)
	}

	// mode = native: the bridge is refused, loudly, and retried; the veth
	// stays filtered.
	e.writeConfig(overlay(e.baseConfig(), "mode = native\ninterfaces = vb*, sxbr*\n"))
	e.hup(`msg="configuration reloaded"`)
	e.rcv.Exec(t, "ip", "link", "add", "sxbr1", "type", "bridge")
	e.rcv.Exec(t, "ip", "link", "set", "sxbr1", "up")
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(e.ctlLog.String(), "attach XDP to sxbr1") {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(e.ctlLog.String(), "attach XDP to sxbr1") {
		t.Errorf("native-only attach to a bridge was not reported:\n%s", e.ctlLog.String())
	}
	if m := modes(); m["sxbr1"] != "" || m[e.rcvIf] != "native" {
		t.Errorf("modes %v with mode = native", m)
	}
	if st, _ := e.client().Status(); !containsKV(st, "all_attached", "false") {
		t.Errorf("status does not admit the failed attach: %v", st)
	}
}

func containsKV(st [][2]string, k, v string) bool {
	for _, kv := range st {
		if kv[0] == k && kv[1] == v {
			return true
		}
	}
	return false
}

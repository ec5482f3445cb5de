package xdp

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRestartAndUpgradeUnderTraffic stops and restarts the controller
// (SIGTERM, then SIGKILL) while an attack stream and a legitimate STUN
// client run. Each new controller loads a fresh program and swaps it into
// the pinned link: the program id changes, yet no attack frame ever reaches
// the stack (the interface is never unfiltered), the filter counts every one
// of them (its maps survive too), and no legitimate request goes unanswered.
func TestRestartAndUpgradeUnderTraffic(t *testing.T) {
	e := newEnv(t, "")
	obs := newObserver(t, e.rcv, e.rcvIf)
	e.startSTUN()
	tx := newRawSender(t, e.snd, e.sndIf)

	blocked := netip.MustParseAddr("11.11.0.70")
	if err := e.client().Block(blocked, time.Hour, "restart test"); err != nil {
		t.Fatal(err)
	}
	before := e.counters()
	progs := []int{e.programID()}

	ctx, stop := context.WithCancel(context.Background())
	var bogonSent, blockedSent atomic.Int64
	attackDone := make(chan struct{})
	go func() {
		defer close(attackDone)
		bogon := e.pkt(netip.MustParseAddr("192.168.7.7"), 17, 40000, stunPort, 0xD001)
		bogon.payload = stunRequest(1)
		blk := e.pkt(blocked, 17, 40000, stunPort, 0xD002)
		blk.payload = stunRequest(2)
		fb, fk := bogon.frame(), blk.frame()
		for ctx.Err() == nil {
			// ~2000 frames/s per stream: a gap of even a millisecond
			// would let some through.
			for i := 0; i < 10; i++ {
				tx.send(t, fb)
				bogonSent.Add(1)
				tx.send(t, fk)
				blockedSent.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	l := e.legitClient()
	legitDone := make(chan [2]int64)
	go func() { s, a := l.run(ctx, 20*time.Millisecond); legitDone <- [2]int64{s, a} }()

	for _, sig := range []unix.Signal{unix.SIGTERM, unix.SIGKILL} {
		time.Sleep(300 * time.Millisecond)
		e.stopController(sig)
		e.redial()
		// No controller at all for a while: only the pinned link filters.
		time.Sleep(500 * time.Millisecond)
		e.startController()
		if mode := e.waitAttached(); mode != "native" {
			t.Fatalf("after restart the filter runs in mode %q", mode)
		}
		progs = append(progs, e.programID())
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	<-attackDone
	res := <-legitDone
	time.Sleep(200 * time.Millisecond)

	for i := 1; i < len(progs); i++ {
		if progs[i] == progs[i-1] || progs[i] == 0 {
			t.Errorf("program ids across restarts %v: each restart must load and swap in a new program", progs)
		}
	}
	if kernel := e.kernelProgID(); kernel != progs[len(progs)-1] {
		t.Errorf("the kernel runs program %d on %s, the controller reports %d", kernel, e.rcvIf, progs[len(progs)-1])
	}
	if n := obs.seenID(0xD001) + obs.seenID(0xD002); n != 0 {
		t.Errorf("%d attack frames reached the stack during restarts; the interface was unfiltered", n)
	}
	after := e.counters()
	if d := after["drop_bogon"] - before["drop_bogon"]; d != uint64(bogonSent.Load()) {
		t.Errorf("drop_bogon counted %d of %d bogon frames", d, bogonSent.Load())
	}
	if d := after["drop_dynamic"] - before["drop_dynamic"]; d != uint64(blockedSent.Load()) {
		t.Errorf("drop_dynamic counted %d of %d blocked frames", d, blockedSent.Load())
	}
	if bs, err := e.client().List(); err != nil || len(bs) != 1 || bs[0].Addr != blocked {
		t.Errorf("dynamic block after restarts: %+v, %v; want it kept", bs, err)
	}
	if res[1] != res[0] || res[0] < 50 {
		t.Errorf("legitimate client: %d of %d answered across restarts, want all", res[1], res[0])
	}
	t.Logf("programs %v; %d bogon + %d blocked frames sent; legit %d/%d answered", progs, bogonSent.Load(), blockedSent.Load(), res[1], res[0])
}

// programID is the program the controller says it attached to the
// receiving interface (each interface runs an instance of its own).
func (e *env) programID() int {
	e.t.Helper()
	ifs, err := e.client().Interfaces()
	if err != nil {
		e.t.Fatalf("interfaces: %v", err)
	}
	for _, i := range ifs {
		if i.Name == e.rcvIf {
			return i.Program
		}
	}
	e.t.Fatalf("the controller lists no %s: %+v", e.rcvIf, ifs)
	return 0
}

// status returns one value of the controller's status.
func (e *env) status(key string) string {
	e.t.Helper()
	st, err := e.client().Status()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, kv := range st {
		if kv[0] == key {
			return kv[1]
		}
	}
	e.t.Fatalf("status without %s: %v", key, st)
	return ""
}

// kernelProgID is the XDP program id iproute2 reports for the interface.
func (e *env) kernelProgID() int {
	out := e.rcv.Exec(e.t, "ip", "-d", "link", "show", "dev", e.rcvIf)
	m := regexp.MustCompile(`prog/xdp id (\d+)`).FindStringSubmatch(out)
	if m == nil {
		e.t.Fatalf("no XDP program on %s: %s", e.rcvIf, out)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

package filter

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

func runOn(t *testing.T, p *ebpf.Program, frame []byte) uint32 {
	t.Helper()
	ret, err := p.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		t.Fatal(err)
	}
	return ret
}

func counterOf(cs []Counter, r Reason) uint64 {
	for _, c := range cs {
		if c.Reason == r {
			return c.Packets
		}
	}
	return 0
}

func TestInterfacePrograms(t *testing.T) {
	f := openTest(t, testConfig())
	p5, err := f.InterfaceProgram(5)
	if err != nil {
		t.Fatal(err)
	}
	p7, err := f.InterfaceProgram(7)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := f.InterfaceProgram(5); again != p5 {
		t.Fatal("InterfaceProgram(5) made a second program")
	}
	if _, err := f.InterfaceProgram(0); err == nil {
		t.Fatal("interface index 0 was accepted")
	}
	stun := udp4(client4, 40000, 3478, binding())
	runOn(t, p5, stun)
	runOn(t, p5, stun)
	if ret := runOn(t, p7, udp4(client4, 40000, 9999, nil)); ret != 1 {
		t.Fatalf("closed port passed on interface 7: %d", ret)
	}
	runOn(t, f.Program(), stun)

	// Policy is shared: a block made through the Filter holds everywhere.
	if err := f.Block(netip.MustParseAddr(client4), time.Hour); err != nil {
		t.Fatal(err)
	}
	if ret := runOn(t, p7, stun); ret != 1 {
		t.Fatal("the dynamic block does not hold on interface 7")
	}

	c5, err := f.InterfaceCounters(5)
	if err != nil {
		t.Fatal(err)
	}
	c7, err := f.InterfaceCounters(7)
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"interface 5 pass_service", counterOf(c5, ReasonPassService), 2},
		{"interface 5 drop_port_closed", counterOf(c5, ReasonDropClosed), 0},
		{"interface 7 drop_port_closed", counterOf(c7, ReasonDropClosed), 1},
		{"interface 7 drop_dynamic", counterOf(c7, ReasonDropDynamic), 1},
		{"interface 7 pass_service", counterOf(c7, ReasonPassService), 0},
		{"total pass_service", counterOf(all, ReasonPassService), 3},
		{"total drop_port_closed", counterOf(all, ReasonDropClosed), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if _, err := f.InterfaceCounters(9); err == nil {
		t.Fatal("counters of an interface without a program")
	}
	if err := f.ReleaseInterface(7); err != nil {
		t.Fatal(err)
	}
	if all, _ := f.Counters(); counterOf(all, ReasonDropClosed) != 0 {
		t.Fatal("a released interface is still counted")
	}
}

func TestInterfaceCountersPinned(t *testing.T) {
	dir := pinDir(t)
	f1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f1.Configure(testConfig()); err != nil {
		t.Fatal(err)
	}
	p, err := f1.InterfaceProgram(5)
	if err != nil {
		t.Fatal(err)
	}
	runOn(t, p, udp4(client4, 40000, 3478, binding()))
	f1.Close()

	f2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if _, err := f2.InterfaceProgram(5); err != nil {
		t.Fatal(err)
	}
	cs, err := f2.InterfaceCounters(5)
	if err != nil {
		t.Fatal(err)
	}
	if n := counterOf(cs, ReasonPassService); n != 1 {
		t.Fatalf("interface 5 pass_service = %d after reopening, want 1", n)
	}
	if err := f2.ReleaseInterface(5); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "counters_5")); !os.IsNotExist(err) {
		t.Fatalf("released interface's counters still pinned: %v", err)
	}
	if err := f2.Unpin(); err != nil {
		t.Fatal(err)
	}
}

// An interface that vanished while no controller ran: the next Filter never
// makes a program for it, yet ReleaseInterface still removes the counters
// the earlier run pinned.
func TestReleaseInterfaceOfEarlierRun(t *testing.T) {
	dir := pinDir(t)
	f1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f1.InterfaceProgram(9); err != nil {
		t.Fatal(err)
	}
	f1.Close()
	f2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if err := f2.ReleaseInterface(9); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "counters_9")); !os.IsNotExist(err) {
		t.Fatalf("counters of an interface gone before this run are still pinned: %v", err)
	}
	if err := f2.ReleaseInterface(9); err != nil {
		t.Fatalf("releasing twice: %v", err)
	}
	if err := f2.Unpin(); err != nil {
		t.Fatal(err)
	}
}

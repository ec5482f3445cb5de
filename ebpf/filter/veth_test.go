package filter

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// TestNativeVeth attaches an interface program in native (driver) mode to
// the receiving end of a veth pair and sends real datagrams from the other
// namespace through the kernel's stack: what the tables check with
// BPF_PROG_TEST_RUN must hold on the real receive path, and the packets must
// land in that interface's counters. (Attack classes on real traffic are
// covered by the controller's integration tests.)
func TestNativeVeth(t *testing.T) {
	f := openTest(t, testConfig())
	sender := testenv.NewNS(t, "b1tx")
	receiver := testenv.NewNS(t, "b1rx")
	_, rxIf := testenv.Veth(t, sender, "30.0.0.1/24", receiver, "20.0.0.1/8,30.0.0.2/24")

	var ifindex int
	var l link.Link
	err := receiver.Do(func() error {
		ifc, err := net.InterfaceByName(rxIf)
		if err != nil {
			return err
		}
		ifindex = ifc.Index
		p, err := f.InterfaceProgram(ifindex)
		if err != nil {
			return err
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: p, Interface: ifindex, Flags: link.XDPDriverMode})
		return err
	})
	if err != nil {
		t.Fatalf("attach in native mode: %v", err)
	}
	t.Cleanup(func() { l.Close() })

	// A UDP socket on the STUN port shows what reaches userspace: the
	// Binding request must, the garbage before it must not.
	var srv net.PacketConn
	if err := receiver.Do(func() error {
		var err error
		srv, err = net.ListenPacket("udp4", "30.0.0.2:3478")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := make(chan []byte, 16)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := srv.ReadFrom(buf)
			if err != nil {
				close(got)
				return
			}
			got <- append([]byte(nil), buf[:n]...)
		}
	}()

	send := func(port int, payload []byte) {
		t.Helper()
		if err := sender.Do(func() error {
			c, err := net.Dial("udp4", fmt.Sprintf("30.0.0.2:%d", port))
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write(payload)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	send(3478, make([]byte, 40)) // garbage on the STUN port
	send(3478, binding())        // a well-formed Binding request
	select {
	case b := <-got:
		if len(b) != len(binding()) {
			t.Fatalf("the server got %d bytes, want the %d-byte Binding (the garbage must not arrive)", len(b), len(binding()))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the Binding request did not reach the server")
	}
	send(9999, []byte("closed"))

	// Counters are per-CPU and written before the verdict returns; the
	// closed-port datagram may still be in flight for a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := f.InterfaceCounters(ifindex)
		if err != nil {
			t.Fatal(err)
		}
		stun, svc, closed := counterOf(cs, ReasonDropSTUN), counterOf(cs, ReasonPassService), counterOf(cs, ReasonDropClosed)
		if stun == 1 && svc == 1 && closed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("interface counters drop_stun=%d pass_service=%d drop_port_closed=%d, want 1 each", stun, svc, closed)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

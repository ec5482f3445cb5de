package xdp

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// liveGen floods like a NIC would deliver: BPF_PROG_RUN in live-frame mode
// (BPF_F_TEST_XDP_LIVE_FRAMES, Linux 5.18) runs a tiny program that gives
// each copy of a template frame a random source in 10.0.0.0/8, fixes the
// IPv4 checksum (the template's UDP checksum is 0, "none", so it stays
// valid) and returns XDP_TX, so the frame leaves through the sender's
// veth as an xdp_frame (ndo_xdp_xmit) and reaches the receiver's XDP hook
// with no skb allocated, as from a real driver. An AF_PACKET sender instead
// hands the receiver a ready skb, which hides what native XDP saves.
type liveGen struct {
	prog    *ebpf.Program
	ns      *testenv.NS
	ifindex uint32
	frame   []byte
}

// xdpMD is struct xdp_md, the context of BPF_PROG_RUN for XDP (data_end
// must equal the frame length).
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

func newLiveGen(t testing.TB, ns *testenv.NS, ifname string, frame []byte) *liveGen {
	t.Helper()
	const (
		eth      = 14
		saddr    = eth + 12
		checksum = eth + 10
	)
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, eth+20),
		asm.JGT.Reg(asm.R4, asm.R3, "short"),
		// saddr = 10.x.y.z
		asm.And.Imm(asm.R7, 0x00ffffff),
		asm.Or.Imm(asm.R7, 0x0a000000),
		asm.HostTo(asm.BE, asm.R7, asm.Word),
		asm.StoreMem(asm.R2, saddr, asm.R7, asm.Word),
		asm.StoreImm(asm.R2, checksum, 0, asm.Half),
		asm.Mov.Imm(asm.R5, 0),
	}
	// One's complement sum of the ten header words (RFC 1071); the sum is
	// byte-order independent as long as it is stored back the same way.
	for i := int16(0); i < 10; i++ {
		insns = append(insns, asm.LoadMem(asm.R8, asm.R2, eth+2*i, asm.Half), asm.Add.Reg(asm.R5, asm.R8))
	}
	for i := 0; i < 2; i++ {
		insns = append(insns,
			asm.Mov.Reg(asm.R8, asm.R5), asm.RSh.Imm(asm.R8, 16),
			asm.And.Imm(asm.R5, 0xffff), asm.Add.Reg(asm.R5, asm.R8))
	}
	insns = append(insns,
		asm.Xor.Imm(asm.R5, 0xffff),
		asm.StoreMem(asm.R2, checksum, asm.R5, asm.Half),
		asm.Mov.Imm(asm.R0, 3), // XDP_TX
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("short"), // XDP_DROP
		asm.Return(),
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, Instructions: insns, License: "GPL"})
	if err != nil {
		t.Fatalf("live-frame generator program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	g := &liveGen{prog: prog, ns: ns, frame: frame}
	if err := ns.Do(func() error {
		i, err := net.InterfaceByName(ifname)
		if err == nil {
			g.ifindex = uint32(i.Index)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return g
}

// run sends until ctx ends, as fast as one core can (rate 0) or paced to
// rate frames per second, counting into sent.
func (g *liveGen) run(ctx context.Context, rate int, sent *atomic.Int64) error {
	// Each run sets up a page pool, so an unpaced flood uses long runs. A
	// paced one sends ~10 ms bursts: a 65,536-frame burst overran the
	// receiver's 256-frame ring and most of it died at the sender, so a
	// "250,000 pkt/s" flood delivered 70-110 kpkt/s (the benches now print
	// the rate received).
	chunk := uint32(65536)
	if rate > 0 {
		chunk = uint32(max(rate/100, 1024)) // ~10 ms bursts
	}
	start := time.Now()
	return g.ns.Do(func() error {
		for ctx.Err() == nil {
			_, err := g.prog.Run(&ebpf.RunOptions{
				Data:    g.frame,
				Context: xdpMD{DataEnd: uint32(len(g.frame)), IngressIfindex: g.ifindex},
				Repeat:  chunk,
				Flags:   unix.BPF_F_TEST_XDP_LIVE_FRAMES,
			})
			if err != nil {
				return fmt.Errorf("live-frame run: %w", err)
			}
			sent.Add(int64(chunk))
			if rate > 0 {
				if ahead := time.Duration(float64(sent.Load())/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		return nil
	})
}

// attachPass puts a bare `return XDP_PASS` program on ifname natively: the
// receiver then behaves like a NIC driver without a filter (veth accepts
// xdp_frames only while an XDP program is attached) and builds an skb for
// every frame. It returns the detach function.
func attachPass(t testing.TB, ns *testenv.NS, ifname string) func() {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
	if err != nil {
		t.Fatal(err)
	}
	var l link.Link
	if err := ns.Do(func() error {
		i, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: i.Index, Flags: link.XDPDriverMode})
		return err
	}); err != nil {
		prog.Close()
		t.Fatalf("attach XDP_PASS: %v", err)
	}
	return func() { l.Close(); prog.Close() }
}

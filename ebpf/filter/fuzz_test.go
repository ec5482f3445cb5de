package filter

import (
	"testing"

	"github.com/cilium/ebpf"
)

// FuzzProgram feeds arbitrary frames to the program: whatever arrives, it
// must return PASS or DROP (never ABORTED or a redirect), count the packet
// under exactly one reason, and return the verdict that reason stands for.
// maxTestFrame is the largest frame BPF_PROG_TEST_RUN hands an XDP program
// (without xdp.frags) in one linear buffer: a page minus XDP_PACKET_HEADROOM
// (256) minus skb_shared_info (320). Longer input is cut there, so the
// program counts fewer bytes than the frame has (the fuzzer found a 3693-byte
// frame counted as 3520). No uplink MTU comes near it.
const maxTestFrame = 4096 - 256 - 320

func FuzzProgram(f *testing.F) {
	for _, c := range append(legitimate(), attacks()...) {
		f.Add(c.frame)
	}
	flt := openTest(f, testConfig())
	f.Fuzz(func(t *testing.T, frame []byte) {
		if len(frame) < 14 || len(frame) > maxTestFrame {
			return // BPF_PROG_TEST_RUN wants a whole Ethernet header, and a linear buffer
		}
		before := snapshot(t, flt)
		ret, err := flt.Program().Run(&ebpf.RunOptions{Data: frame})
		if err != nil {
			t.Fatal(err)
		}
		after := snapshot(t, flt)
		var moved []Reason
		for r, c := range after {
			if c.Packets != before[r].Packets {
				moved = append(moved, r)
				if c.Packets-before[r].Packets != 1 {
					t.Fatalf("%v moved by %d packets", r, c.Packets-before[r].Packets)
				}
			}
		}
		if len(moved) != 1 {
			t.Fatalf("counters moved %v, want exactly one", moved)
		}
		if ret != moved[0].Action() {
			t.Fatalf("verdict %d for reason %v", ret, moved[0])
		}
	})
}

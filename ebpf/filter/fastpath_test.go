package filter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// The Binding fast path (binding_answer in xdp_filter.c) against the
// userspace server's encoder: every request form it answers, over IPv4 and
// IPv6, bare and behind VLAN tags, must come back as exactly the frame the
// kernel would carry for supernode/server's answer (addresses and ports
// swapped, valid IPv4 and UDP checksums, the STUN bytes of
// stun.Message.Reply + (XOR-)MAPPED-ADDRESS [+ FINGERPRINT]).

// udpSum fills in the UDP checksum of the UDP datagram seg between src and
// dst (RFC 768, RFC 8200 8.1).
func udpSum(src, dst netip.Addr, seg []byte) {
	seg[6], seg[7] = 0, 0
	c := l4Sum(src, dst, seg)
	binary.BigEndian.PutUint16(seg[6:], c)
}

func l4Sum(src, dst netip.Addr, seg []byte) uint16 {
	var sum uint32
	for _, a := range []netip.Addr{src, dst} {
		b := a.AsSlice()
		for i := 0; i < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
	}
	sum += 17 + uint32(len(seg))
	for i := 0; i+1 < len(seg); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(seg[i:]))
	}
	if len(seg)%2 == 1 {
		sum += uint32(seg[len(seg)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	c := ^uint16(sum)
	if c == 0 {
		c = 0xffff
	}
	return c
}

// bindingFrame is a request frame from src:40000 to the filter's own
// address on 3478 with a valid UDP checksum, behind the given VLAN tags.
func bindingFrame(src string, msg []byte, tpids ...uint16) []byte {
	s := netip.MustParseAddr(src)
	seg := udp(40000, 3478, msg)
	if s.Is4() {
		udpSum(s, netip.MustParseAddr(own4), seg)
		return ether(ethIPv4, ipSum(ip4(src, own4, protoUDP, seg)), tpids...)
	}
	udpSum(s, netip.MustParseAddr(own6), seg)
	return ether(ethIPv6, ip6(src, own6, protoUDP, seg), tpids...)
}

// ipSum fills in the IPv4 header checksum of the packet ip.
func ipSum(ip []byte) []byte {
	ip[10], ip[11] = 0, 0
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	return ip
}

// userspaceAnswer is what supernode/server's binding() sends for req from
// src: XOR-MAPPED-ADDRESS (MAPPED-ADDRESS for RFC 3489), FINGERPRINT only
// when the request had one.
func userspaceAnswer(t *testing.T, req []byte, src netip.AddrPort) []byte {
	t.Helper()
	in := stun.New()
	if err := in.Decode(req); err != nil {
		t.Fatal(err)
	}
	out := stun.New()
	out.Reply(in, stun.ClassSuccess)
	if in.Classic() {
		out.AddMappedAddress(stun.AttrMappedAddress, src)
	} else {
		out.AddXORAddress(stun.AttrXORMappedAddress, src)
	}
	if in.Find(stun.AttrFingerprint) >= 0 && !in.Classic() {
		out.AddFingerprint()
	}
	return append([]byte(nil), out.Raw...)
}

func bindingRequest(classic, fingerprint bool, attrs ...func(*stun.Message)) []byte {
	m := stun.New()
	cookie := uint32(stun.MagicCookie)
	if classic {
		cookie = 0x01020304
	}
	m.Build(stun.MessageType{Method: stun.MethodBinding, Class: stun.ClassRequest}, cookie, stun.NewTransactionID())
	for _, a := range attrs {
		a(m)
	}
	if fingerprint {
		m.AddFingerprint()
	}
	return append([]byte(nil), m.Raw...)
}

func changeRequest(flags byte) func(*stun.Message) {
	return func(m *stun.Message) { m.Add(0x0003, []byte{0, 0, 0, flags}) }
}

// run returns the program's verdict and output frame.
func runFrame(t *testing.T, f *Filter, frame []byte) (uint32, []byte) {
	t.Helper()
	out := make([]byte, 512)
	opts := &ebpf.RunOptions{Data: frame, DataOut: out}
	ret, err := f.Program().Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	return ret, opts.DataOut
}

// checkAnswer parses an answered frame: swapped MACs, the VLAN tags of the
// request, swapped addresses and ports, valid checksums; it returns the
// STUN bytes.
func checkAnswer(t *testing.T, req, ans []byte, l2 int, v6 bool) []byte {
	t.Helper()
	if !bytes.Equal(ans[0:6], req[6:12]) || !bytes.Equal(ans[6:12], req[0:6]) {
		t.Fatalf("MACs not swapped: % x", ans[:12])
	}
	if !bytes.Equal(ans[12:l2], req[12:l2]) {
		t.Fatalf("VLAN tags / ethertype changed: % x, want % x", ans[12:l2], req[12:l2])
	}
	var src, dst netip.Addr
	var seg []byte
	if v6 {
		ip := ans[l2:]
		if ip[0]>>4 != 6 || ip[6] != 17 || ip[7] != 64 {
			t.Fatalf("IPv6 header % x", ip[:8])
		}
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		if want := netip.AddrFrom16([16]byte(req[l2+24 : l2+40])); src != want {
			t.Fatalf("answer from %v, want %v", src, want)
		}
		seg = ip[40:]
		if int(binary.BigEndian.Uint16(ip[4:])) != len(seg) {
			t.Fatalf("payload length %d, frame has %d", binary.BigEndian.Uint16(ip[4:]), len(seg))
		}
	} else {
		ip := ans[l2 : l2+20]
		if ip[0] != 0x45 || ip[9] != 17 || ip[8] != 64 {
			t.Fatalf("IPv4 header % x", ip)
		}
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum>>16 + sum&0xffff
		}
		if sum != 0xffff {
			t.Fatalf("IPv4 header checksum wrong: % x", ip)
		}
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		if want := netip.AddrFrom4([4]byte(req[l2+16 : l2+20])); src != want {
			t.Fatalf("answer from %v, want %v", src, want)
		}
		seg = ans[l2+20:]
		if int(binary.BigEndian.Uint16(ip[2:])) != 20+len(seg) {
			t.Fatalf("total length %d, frame has %d", binary.BigEndian.Uint16(ip[2:]), 20+len(seg))
		}
	}
	if binary.BigEndian.Uint16(seg[0:]) != 3478 || binary.BigEndian.Uint16(seg[2:]) != 40000 {
		t.Fatalf("ports % x", seg[:4])
	}
	if int(binary.BigEndian.Uint16(seg[4:])) != len(seg) {
		t.Fatalf("UDP length %d, segment %d", binary.BigEndian.Uint16(seg[4:]), len(seg))
	}
	got := binary.BigEndian.Uint16(seg[6:])
	c := append([]byte(nil), seg...)
	udpSum(src, dst, c)
	if got != binary.BigEndian.Uint16(c[6:]) {
		t.Fatalf("UDP checksum %#04x, want %#04x", got, binary.BigEndian.Uint16(c[6:]))
	}
	return seg[8:]
}

func TestBindingFastPath(t *testing.T) {
	f := openTest(t, testConfig())
	cases := []struct {
		name string
		msg  []byte
	}{
		{"rfc8489", bindingRequest(false, false)},
		{"rfc8489 fingerprint", bindingRequest(false, true)},
		{"rfc3489", bindingRequest(true, false)},
		{"rfc3489 change-request without flags", bindingRequest(true, false, changeRequest(0))},
	}
	// IPv6 extension headers are skipped; the answer carries none.
	for _, exts := range [][]ext{{opts(0)}, {opts(0), opts(60)}, {{44, []byte{0, 0, 0, 0, 0, 0, 7}}}} {
		msg := bindingRequest(false, true)
		seg := udp(40000, 3478, msg)
		udpSum(netip.MustParseAddr(client6), netip.MustParseAddr(own6), seg)
		frame := ether(ethIPv6, ip6(client6, own6, protoUDP, seg, exts...))
		t.Run(fmt.Sprintf("rfc8489 fingerprint v6 behind %d extension headers (type %d)", len(exts), exts[0].typ), func(t *testing.T) {
			if err := want(f, frame, ReasonTxBinding); err != nil {
				t.Fatal(err)
			}
			_, ans := runFrame(t, f, frame)
			got := checkAnswer(t, frame, ans, 14, true)
			if w := userspaceAnswer(t, msg, netip.AddrPortFrom(netip.MustParseAddr(client6), 40000)); !bytes.Equal(got, w) {
				t.Fatalf("answer\n% x\nuserspace answers\n% x", got, w)
			}
		})
	}
	for _, c := range cases {
		for _, src := range []string{client4, client6} {
			for _, tags := range [][]uint16{nil, {tpid1Q}, {tpidAD, tpid1Q}} {
				name := c.name + " " + src
				if len(tags) > 0 {
					name += " vlan"
				}
				t.Run(name, func(t *testing.T) {
					frame := bindingFrame(src, c.msg, tags...)
					if err := want(f, frame, ReasonTxBinding); err != nil {
						t.Fatal(err)
					}
					ret, ans := runFrame(t, f, frame)
					if ret != 3 {
						t.Fatalf("verdict %d, want XDP_TX", ret)
					}
					v6 := netip.MustParseAddr(src).Is6()
					stunBytes := checkAnswer(t, frame, ans, 14+4*len(tags), v6)
					wantBytes := userspaceAnswer(t, c.msg, netip.AddrPortFrom(netip.MustParseAddr(src), 40000))
					if !bytes.Equal(stunBytes, wantBytes) {
						t.Fatalf("answer\n% x\nuserspace answers\n% x", stunBytes, wantBytes)
					}
					if v4 := !v6; v4 && float64(len(stunBytes)) > 1.6*float64(len(c.msg)) {
						t.Fatalf("answer %d bytes for a %d-byte request: more than 1.6x", len(stunBytes), len(c.msg))
					}
				})
			}
		}
	}
}

// TestBindingFastPathDeclines: what the fast path does not answer goes up
// unchanged (pass_service), for the userspace server to decide.
func TestBindingFastPathDeclines(t *testing.T) {
	f := openTest(t, testConfig())
	badFP := bindingRequest(false, true)
	badFP[len(badFP)-1] ^= 1
	software := func(m *stun.Message) { m.AddSoftware("client") }
	integrity := func(m *stun.Message) { m.AddMessageIntegrity([]byte("key")) }
	unknownRequired := func(m *stun.Message) { m.Add(0x0042, []byte{1, 2, 3, 4}) }
	cases := []struct {
		name  string
		frame []byte
	}{
		{"bad fingerprint", bindingFrame(client4, badFP)},
		{"software", bindingFrame(client4, bindingRequest(false, false, software))},
		{"message-integrity", bindingFrame(client4, bindingRequest(false, false, integrity))},
		{"unknown comprehension-required", bindingFrame(client4, bindingRequest(false, false, unknownRequired))},
		{"rfc8489 change-request", bindingFrame(client4, bindingRequest(false, false, changeRequest(0)))},
		{"rfc3489 change-request with flags", bindingFrame(client4, bindingRequest(true, false, changeRequest(4)))},
		// RFC 5780 discovery: the server answers these from another
		// address, or with OTHER-ADDRESS (supernode/server/discovery.go).
		{"rfc8489 change-request change ip+port", bindingFrame(client4, bindingRequest(false, true, changeRequest(6)))},
		{"rfc3489 change-request change port", bindingFrame(client4, bindingRequest(true, false, changeRequest(2)))},
		{"rfc5780 padding", bindingFrame(client4, bindingRequest(false, true, func(m *stun.Message) { m.Add(0x0026, make([]byte, 64)) }))},
		{"rfc3489 fingerprint", bindingFrame(client4, bindingRequest(true, true))},
		{"bad ipv4 header checksum", with(bindingFrame(client4, bindingRequest(false, false)), func(b []byte) { b[14+10] ^= 0x40 })},
		{"bad udp checksum", with(bindingFrame(client4, bindingRequest(false, false)), func(b []byte) { b[14+20+6] ^= 0x40 })},
		{"bad udp checksum v6", with(bindingFrame(client6, bindingRequest(false, false)), func(b []byte) { b[14+40+6] ^= 0x40 })},
		{"udp checksum 0 over v6", with(bindingFrame(client6, bindingRequest(false, false)), func(b []byte) { b[14+40+6], b[14+40+7] = 0, 0 })},
		{"custom method", udp4(client4, 40000, 3478, stunMsg(stunType(0x801, 0), magicCookie, 0))},
		{"success response", bindingFrame(client4, with(bindingRequest(false, false), func(b []byte) { b[0], b[1] = 0x01, 0x01 }))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect(t, f, c.frame, ReasonPassService)
			_, out := runFrame(t, f, c.frame)
			if !bytes.Equal(out, c.frame) {
				t.Fatalf("frame changed:\n% x\n% x", c.frame, out)
			}
		})
	}
	// Switched off, every request goes up.
	c := testConfig()
	c.BindingFastPath = false
	if err := f.Configure(c); err != nil {
		t.Fatal(err)
	}
	expect(t, f, bindingFrame(client4, bindingRequest(false, false)), ReasonPassService)
	expect(t, f, bindingFrame(client6, bindingRequest(false, true)), ReasonPassService)
}

// TestBindingFastPathBudget: the fast path runs after the per-source
// budget, so a flooding source is still cut to burst + rate.
func TestBindingFastPathBudget(t *testing.T) {
	c := testConfig()
	c.UDPRate, c.UDPBurst = 1, 5
	f := openTest(t, c)
	frame := bindingFrame(client4, bindingRequest(false, false))
	got := map[Reason]int{}
	for i := 0; i < 20; i++ {
		r, err := outcome(f, frame)
		if err != nil {
			t.Fatal(err)
		}
		got[r]++
	}
	if got[ReasonTxBinding] < 5 || got[ReasonTxBinding] > 7 || got[ReasonDropRateUDP] != 20-got[ReasonTxBinding] {
		t.Fatalf("20 requests from one source with burst 5: %v", got)
	}
	// A blocked source is never answered.
	if err := f.Block(netip.MustParseAddr(client6), time.Minute); err != nil {
		t.Fatal(err)
	} else {
		expect(t, f, bindingFrame(client6, bindingRequest(false, false)), ReasonDropDynamic)
	}
}

// BenchmarkBindingFastPath times, in the same run and interleaved, one
// Binding request answered in the driver (tx_binding: parsing, checks,
// budget, the answer built, checksums, XDP_TX), the same request passed up
// with the fast path off (pass_service: what the kernel and the userspace
// server then add to), and the bare XDP_DROP floor. The answer rewrites
// the frame, so each run is a single BPF_PROG_TEST_RUN on a fresh copy
// (repeat 1); the kernel's per-run time excludes the system call.
//
//	go test -run '^$' -bench BindingFastPath -benchtime 20000x ./ebpf/filter
func BenchmarkBindingFastPath(b *testing.B) {
	var floor floorObjects
	if err := loadFloorObjects(&floor, nil); err != nil {
		b.Skip(err)
	}
	defer floor.Close()
	on := openTest(b, benchConfig())
	offCfg := benchConfig()
	offCfg.BindingFastPath = false
	off := openTest(b, offCfg)
	for _, c := range []struct {
		name string
		msg  []byte
		src  string
	}{
		{"v4", bindingRequest(false, false), client4},
		{"v4-fingerprint", bindingRequest(false, true), client4},
		{"v6", bindingRequest(false, false), client6},
		{"v6-fingerprint", bindingRequest(false, true), client6},
		{"v4-rfc3489", bindingRequest(true, false), client4},
	} {
		frame := bindingFrame(c.src, c.msg)
		if err := want(on, frame, ReasonTxBinding); err != nil {
			b.Fatal(err)
		}
		if err := want(off, frame, ReasonPassService); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var tx, up, base time.Duration
			once := func(p *ebpf.Program) time.Duration {
				_, d, err := p.Benchmark(frame, 1, nil)
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			for i := 0; i < b.N; i++ {
				tx += once(on.Program())
				up += once(off.Program())
				base += once(floor.XdpDrop)
			}
			n := float64(b.N)
			b.ReportMetric(float64(tx.Nanoseconds())/n, "answer-ns")
			b.ReportMetric(float64(up.Nanoseconds())/n, "pass-up-ns")
			b.ReportMetric(float64(base.Nanoseconds())/n, "floor-ns")
			b.ReportMetric(float64(tx)/float64(base), "answer/floor")
			b.ReportMetric(float64(tx)/float64(up), "answer/pass-up")
		})
	}
}

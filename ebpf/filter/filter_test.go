package filter

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/supernode-appliance/appliance/supernode/wire"
	"github.com/supernode-appliance/appliance/tests/testenv"
	"golang.org/x/sys/unix"
)

const (
	own4    = "20.0.0.1"
	own6    = "2600:20::1"
	client4 = "30.0.0.1"
	client6 = "2a00:30::1"
)

func testConfig() Config {
	c := DefaultConfig()
	c.UDPPorts = []uint16{3478, 5000}
	c.STUNPorts = []uint16{3478}
	c.TCPPorts = []uint16{443}
	c.OwnAddrs = []netip.Addr{netip.MustParseAddr(own4), netip.MustParseAddr(own6)}
	c.Block = []netip.Prefix{netip.MustParsePrefix("40.0.0.0/8"), netip.MustParsePrefix("2a00:dead::/32")}
	c.Allow = []netip.Prefix{netip.MustParsePrefix("40.1.0.0/16")}
	c.AllowBogons = []netip.Prefix{netip.MustParsePrefix("192.168.77.0/24")}
	// The budgets have their own test; here they must not interfere.
	c.UDPRate, c.SYNRate, c.ICMPRate = 0, 0, 0
	return c
}

func openTest(t testing.TB, c Config) *Filter {
	t.Helper()
	testenv.RequireRoot(t)
	f, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Configure(c); err != nil {
		t.Fatal(err)
	}
	return f
}

func snapshot(t testing.TB, f *Filter) map[Reason]Counter {
	t.Helper()
	cs, err := f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	m := map[Reason]Counter{}
	for _, c := range cs {
		m[c.Reason] = c
	}
	return m
}

// outcome runs frame through the program and returns the one reason it
// counted the packet under; it fails unless exactly one counter moved, by
// one packet and len(frame) bytes, and the verdict is the reason's.
func outcome(f *Filter, frame []byte) (Reason, error) {
	snap := func() (map[Reason]Counter, error) {
		cs, err := f.Counters()
		m := map[Reason]Counter{}
		for _, c := range cs {
			m[c.Reason] = c
		}
		return m, err
	}
	before, err := snap()
	if err != nil {
		return 0, err
	}
	ret, err := f.Program().Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		return 0, fmt.Errorf("run: %w", err)
	}
	after, err := snap()
	if err != nil {
		return 0, err
	}
	var moved []Reason
	for r, c := range after {
		if c != before[r] {
			moved = append(moved, r)
		}
	}
	if len(moved) != 1 {
		return 0, fmt.Errorf("counters moved %v, want exactly one", moved)
	}
	r := moved[0]
	if d := after[r].Packets - before[r].Packets; d != 1 {
		return r, fmt.Errorf("%v moved by %d packets, want 1", r, d)
	}
	if d := after[r].Bytes - before[r].Bytes; d != uint64(len(frame)) {
		return r, fmt.Errorf("%v moved by %d bytes, want %d", r, d, len(frame))
	}
	if wantRet := r.Action(); ret != wantRet {
		return r, fmt.Errorf("verdict %d for %v, want %d", ret, r, r.Action())
	}
	return r, nil
}

// want is outcome as an error: nil if frame ends under reason w.
func want(f *Filter, frame []byte, w Reason) error {
	r, err := outcome(f, frame)
	if err == nil && r != w {
		err = fmt.Errorf("counted under %v, want %v", r, w)
	}
	return err
}

func expect(t testing.TB, f *Filter, frame []byte, w Reason) {
	t.Helper()
	if err := want(f, frame, w); err != nil {
		t.Fatal(err)
	}
}

// timely runs a check that depends on the clock (token refills, block
// expiry). If it fails after running longer than window, a loaded machine
// broke its premise and it is retried (up to 5 times); a failure within the
// window fails the test.
func timely(t *testing.T, window time.Duration, attempt func(try int) error) {
	t.Helper()
	for try := 0; ; try++ {
		start := time.Now()
		err := attempt(try)
		if err == nil {
			return
		}
		if took := time.Since(start); took < window || try == 4 {
			t.Fatal(err)
		} else {
			t.Logf("retrying after %v (longer than %v): %v", took, window, err)
		}
	}
}

type testCase struct {
	name  string
	frame []byte
	want  Reason
}

// legitimate is the traffic that must pass.
func legitimate() []testCase {
	v4 := ip4(client4, own4, protoUDP, udp(40000, 3478, binding()))
	return []testCase{
		{"stun binding v4", udp4(client4, 40000, 3478, binding()), ReasonPassService},
		{"stun binding v6", udp6(client6, 40000, 3478, binding()), ReasonPassService},
		{"stun binding no attributes (answered in the driver)", bindingFrame(client4, stunMsg(0x0001, magicCookie, 0)), ReasonTxBinding},
		{"classic stun binding (RFC 3489, answered in the driver)", bindingFrame(client4, stunMsg(0x0001, 0x01020304, 0)), ReasonTxBinding},
		{"stun binding success response", udp4(client4, 40000, 3478, stunMsg(0x0101, magicCookie, 12)), ReasonPassService},
		{"supernode register request", udp4(client4, 40000, 3478, stunMsg(stunType(uint16(wire.MethodRegister), 0), magicCookie, 36)), ReasonPassService},
		{"supernode introduce indication", udp6(client6, 40000, 3478, stunMsg(stunType(uint16(wire.MethodIntroduce), 1), magicCookie, 36)), ReasonPassService},
		{"supernode keepalive error response", udp4(client4, 40000, 3478, stunMsg(stunType(uint16(wire.MethodKeepalive), 3), magicCookie, 8)), ReasonPassService},
		{"served non-stun port", udp4(client4, 40000, 5000, []byte("hello")), ReasonPassService},
		{"vlan tagged stun", ether(ethIPv4, v4, tpid1Q), ReasonPassService},
		{"qinq tagged stun", ether(ethIPv4, v4, tpidAD, tpid1Q), ReasonPassService},
		{"ethernet padding", append(udp4(client4, 40000, 5000, nil), make([]byte, 18)...), ReasonPassService},
		{"dhcp reply from private server", ether(ethIPv4, ip4("10.0.0.1", own4, protoUDP, udp(67, 68, make([]byte, 300)))), ReasonPassControl},
		{"dhcpv6 reply", ether(ethIPv6, ip6("fe80::1", "fe80::2", protoUDP, udp(547, 546, make([]byte, 40)))), ReasonPassControl},
		{"ntp reply to ephemeral port", udp4("30.0.0.123", 123, 40001, make([]byte, 48)), ReasonPassReply},
		{"dns reply to ephemeral port", udp4("30.0.0.53", 53, 50000, make([]byte, 120)), ReasonPassReply},
		{"dns reply v6", udp6("2a00:30::53", 53, 50000, make([]byte, 120)), ReasonPassReply},
		{"established tcp reply", tcp4("30.0.0.80", 443, 45000, tcpACK), ReasonPassReply},
		{"tcp syn+ack reply", tcp4("30.0.0.80", 443, 45000, tcpSYN|tcpACK), ReasonPassReply},
		{"tcp fin+ack reply", tcp4("30.0.0.80", 443, 45000, tcpFIN|tcpACK), ReasonPassReply},
		{"tcp reset from a peer without the connection", tcp4("30.0.0.80", 443, 45000, tcpRST), ReasonPassReply},
		{"tcp syn to served port", tcp4(client4, 45000, 443, tcpSYN), ReasonPassService},
		{"tcp ack to served port", tcp4(client4, 45000, 443, tcpACK|tcpPSH), ReasonPassService},
		{"icmp frag needed from private router", ether(ethIPv4, ip4("10.1.1.1", own4, protoICMP, icmp(3, 4))), ReasonPassICMP},
		{"icmp time exceeded", ether(ethIPv4, ip4("30.0.0.254", own4, protoICMP, icmp(11, 0))), ReasonPassICMP},
		{"icmp echo request", ether(ethIPv4, ip4(client4, own4, protoICMP, icmp(8, 0))), ReasonPassICMP},
		{"icmpv6 packet too big", ether(ethIPv6, ip6("2a00:30::fe", own6, protoICMPv6, icmp(2, 0))), ReasonPassICMP},
		{"icmpv6 echo request", ether(ethIPv6, ip6(client6, own6, protoICMPv6, icmp(128, 0))), ReasonPassICMP},
		{"ndp neighbour solicitation", ether(ethIPv6, withHop(ip6("fe80::1", "ff02::1:ff00:1", protoICMPv6, icmp(135, 0)), 255)), ReasonPassControl},
		{"ndp dad from unspecified", ether(ethIPv6, withHop(ip6("::", "ff02::1:ff00:1", protoICMPv6, icmp(135, 0)), 255)), ReasonPassControl},
		{"ndp router advertisement", ether(ethIPv6, withHop(ip6("fe80::1", "ff02::1", protoICMPv6, icmp(134, 0)), 255)), ReasonPassControl},
		{"mld query", ether(ethIPv6, withHop(ip6("fe80::1", "ff02::1", protoICMPv6, icmp(130, 0), opts(0)), 1)), ReasonPassControl},
		{"arp", ether(ethARP, arp()), ReasonPassARP},
		{"allowed bogon", udp4("192.168.77.5", 40000, 3478, binding()), ReasonPassService},
		{"allow list inside block list", udp4("40.1.2.3", 40000, 3478, binding()), ReasonPassService},
		{"ipv6 hop-by-hop and destination options", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), opts(0), opts(60))), ReasonPassService},
		{"ipv6 atomic fragment", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), ext{44, []byte{0, 0, 0, 1, 2, 3, 4}})), ReasonPassService},
		{"ipv6 routing header done", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), ext{43, []byte{0, 4, 0, 0, 0, 0, 0}})), ReasonPassService},
	}
}

func withHop(b []byte, hop byte) []byte { return with(b, func(b []byte) { b[7] = hop }) }

// attacks is every drop reason with crafted packets.
func attacks() []testCase {
	stun4 := udp4(client4, 40000, 3478, binding())
	stun6 := udp6(client6, 40000, 3478, binding())
	dstopts := func(n int) []ext {
		var e []ext
		for range n {
			e = append(e, opts(60))
		}
		return e
	}
	frag4 := func(off uint16) []byte {
		return with(stun4, func(b []byte) { be16(b[14+6:], off) })
	}
	fragHdr := func(off uint16) ext { // offset in 8-byte units, M flag
		return ext{44, []byte{0, byte(off >> 8), byte(off), 0, 0, 0, 9}}
	}
	return []testCase{
		{"lldp", ether(0x88cc, make([]byte, 46)), ReasonDropEthertype},
		{"802.3 length field", ether(0x0040, make([]byte, 64)), ReasonDropEthertype},
		{"three vlan tags", ether(ethIPv4, ip4(client4, own4, protoUDP, udp(40000, 3478, binding())), tpidAD, tpid1Q, tpid1Q), ReasonDropVLAN},
		{"ipv4 version 5", with(stun4, func(b []byte) { b[14] = 0x55 }), ReasonDropIPHeader},
		{"ipv4 ihl 4", with(stun4, func(b []byte) { b[14] = 0x44 }), ReasonDropIPHeader},
		{"ipv4 options", with(stun4, func(b []byte) { b[14] = 0x46 }), ReasonDropIPOptions},
		{"ipv4 total length beyond frame", with(stun4, func(b []byte) { be16(b[16:], 1000) }), ReasonDropIPHeader},
		{"ipv4 total length below header", with(stun4, func(b []byte) { be16(b[16:], 19) }), ReasonDropIPHeader},
		{"ipv4 evil bit", with(stun4, func(b []byte) { b[20] = 0x80 }), ReasonDropIPHeader},
		{"ipv4 ttl 0", with(stun4, func(b []byte) { b[22] = 0 }), ReasonDropTTL},
		{"ipv6 version 4", with(stun6, func(b []byte) { b[14] = 0x40 }), ReasonDropIPHeader},
		{"ipv6 jumbo payload length 0", with(stun6, func(b []byte) { be16(b[18:], 0) }), ReasonDropIPHeader},
		{"ipv6 payload beyond frame", with(stun6, func(b []byte) { be16(b[18:], 500) }), ReasonDropIPHeader},
		{"ipv6 hop limit 0", withHop6(stun6, 0), ReasonDropTTL},
		{"ipv6 routing header 0", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), ext{43, []byte{2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}})), ReasonDropIPv6Ext},
		{"ipv6 routing header with segments left", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), ext{43, []byte{0, 4, 1, 0, 0, 0, 0}})), ReasonDropIPv6Ext},
		{"ipv6 hop-by-hop not first", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), opts(60), opts(0))), ReasonDropIPv6Ext},
		{"ipv6 extension chain too long", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), dstopts(7)...)), ReasonDropIPv6Ext},
		{"ipv4 first fragment to service port", frag4(0x2000), ReasonDropFragment},
		{"ipv4 later fragment", frag4(0x0010), ReasonDropFragment},
		{"ipv4 last fragment", frag4(0x2010), ReasonDropFragment},
		{"ipv6 first fragment to service port", ether(ethIPv6, ip6(client6, own6, protoUDP, udp(40000, 3478, binding()), fragHdr(1))), ReasonDropFragment},
		{"ipv6 later fragment", ether(ethIPv6, ip6(client6, own6, protoUDP, make([]byte, 64), fragHdr(0x40))), ReasonDropFragment},
		{"ipv6 fragment hiding behind options", ether(ethIPv6, ip6(client6, own6, protoUDP, make([]byte, 64), opts(0), opts(60), fragHdr(0x40))), ReasonDropFragment},
		{"gre", ether(ethIPv4, ip4(client4, own4, protoGRE, make([]byte, 24))), ReasonDropProtocol},
		{"icmpv6 inside ipv4", ether(ethIPv4, ip4(client4, own4, protoICMPv6, icmp(128, 0))), ReasonDropProtocol},
		{"sctp over ipv6", ether(ethIPv6, ip6(client6, own6, 132, make([]byte, 32))), ReasonDropProtocol},
		{"land ipv4", ether(ethIPv4, ip4(own4, own4, protoTCP, tcp(443, 443, tcpSYN))), ReasonDropLand},
		{"land ipv6", ether(ethIPv6, ip6(own6, own6, protoUDP, udp(3478, 3478, binding()))), ReasonDropLand},
		{"tcp null scan", tcp4(client4, 45000, 443, 0), ReasonDropTCPFlags},
		{"tcp xmas scan", tcp4(client4, 45000, 443, tcpFIN|tcpPSH|tcpURG), ReasonDropTCPFlags},
		{"tcp syn+fin", tcp4(client4, 45000, 443, tcpSYN|tcpFIN), ReasonDropTCPFlags},
		{"tcp syn+rst", tcp4(client4, 45000, 443, tcpSYN|tcpRST), ReasonDropTCPFlags},
		{"tcp fin without ack", tcp4(client4, 45000, 443, tcpFIN), ReasonDropTCPFlags},
		{"tcp data offset 4", with(tcp4(client4, 45000, 443, tcpSYN), func(b []byte) { b[34+12] = 4 << 4 }), ReasonDropTCPHeader},
		{"tcp data offset beyond segment", with(tcp4(client4, 45000, 443, tcpSYN), func(b []byte) { b[34+12] = 15 << 4 }), ReasonDropTCPHeader},
		{"udp length beyond payload", with(stun4, func(b []byte) { be16(b[34+4:], 200) }), ReasonDropUDPLength},
		{"udp length below payload", with(stun4, func(b []byte) { be16(b[34+4:], 20) }), ReasonDropUDPLength},
		{"udp length below header", with(stun4, func(b []byte) { be16(b[34+4:], 7) }), ReasonDropUDPLength},
		{"udp source port 0", udp4(client4, 0, 3478, binding()), ReasonDropPortZero},
		{"udp destination port 0", udp4(client4, 40000, 0, binding()), ReasonDropPortZero},
		{"tcp port 0", tcp4(client4, 0, 443, tcpSYN), ReasonDropPortZero},
		{"udp closed port", udp4(client4, 40000, 9999, []byte("x")), ReasonDropClosed},
		{"tcp syn closed port", tcp4(client4, 45000, 22, tcpSYN), ReasonDropClosed},
		{"tcp syn to ephemeral port", tcp4(client4, 45000, 40000, tcpSYN), ReasonDropClosed},
		{"tcp reset to closed port", tcp4(client4, 45000, 22, tcpRST), ReasonDropClosed},
		{"dns reflection to stun port", udp4("30.0.0.53", 53, 3478, make([]byte, 512)), ReasonDropReflect},
		{"ntp reflection to service port", udp4("30.0.0.123", 123, 5000, make([]byte, 468)), ReasonDropReflect},
		{"memcached reflection v6", udp6("2a00:30::11", 11211, 3478, make([]byte, 1000)), ReasonDropReflect},
		{"ssdp reflection", udp4("30.0.0.19", 1900, 3478, make([]byte, 300)), ReasonDropReflect},
		{"stun too short", udp4(client4, 40000, 3478, make([]byte, 19)), ReasonDropSTUN},
		{"stun empty", udp4(client4, 40000, 3478, nil), ReasonDropSTUN},
		{"stun length mismatch", with(stun4, func(b []byte) { be16(b[42+2:], 12) }), ReasonDropSTUN},
		{"stun length not multiple of 4", udp4(client4, 40000, 3478, stunMsg(0x0001, magicCookie, 6)), ReasonDropSTUN},
		{"stun top bits set", udp4(client4, 40000, 3478, stunMsg(0x8001, magicCookie, 8)), ReasonDropSTUN},
		{"stun unknown method", udp4(client4, 40000, 3478, stunMsg(stunType(0x800, 0), magicCookie, 8)), ReasonDropSTUN},
		{"stun unknown method above range", udp4(client4, 40000, 3478, stunMsg(stunType(0x810, 0), magicCookie, 8)), ReasonDropSTUN},
		{"stun turn allocate", udp4(client4, 40000, 3478, stunMsg(stunType(0x003, 0), magicCookie, 8)), ReasonDropSTUN},
		{"stun method 0", udp4(client4, 40000, 3478, stunMsg(0x0000, magicCookie, 8)), ReasonDropSTUN},
		{"classic stun not a binding request", udp4(client4, 40000, 3478, stunMsg(0x0101, 0x01020304, 8)), ReasonDropSTUN},
		{"garbage to stun port v6", udp6(client6, 40000, 3478, make([]byte, 100)), ReasonDropSTUN},
		{"icmp redirect", ether(ethIPv4, ip4("30.0.0.254", own4, protoICMP, icmp(5, 1))), ReasonDropICMPType},
		{"icmp timestamp", ether(ethIPv4, ip4(client4, own4, protoICMP, icmp(13, 0))), ReasonDropICMPType},
		{"icmpv6 redirect", ether(ethIPv6, withHop(ip6("fe80::1", own6, protoICMPv6, icmp(137, 0)), 255)), ReasonDropICMPType},
		{"ndp from off link", ether(ethIPv6, ip6(client6, own6, protoICMPv6, icmp(134, 0))), ReasonDropICMPType},
		{"mld from global source", ether(ethIPv6, withHop(ip6(client6, "ff02::1", protoICMPv6, icmp(130, 0)), 1)), ReasonDropICMPType},
		{"icmpv6 unknown type", ether(ethIPv6, ip6(client6, own6, protoICMPv6, icmp(200, 0))), ReasonDropICMPType},
		{"own source v4", ether(ethIPv4, ip4(own4, "20.0.0.2", protoUDP, udp(40000, 3478, binding()))), ReasonDropOwnSource},
		{"own source v6", ether(ethIPv6, ip6(own6, "2600:20::2", protoUDP, udp(40000, 3478, binding()))), ReasonDropOwnSource},
		{"bogon private", udp4("10.0.0.1", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon loopback", udp4("127.0.0.1", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon multicast source", udp4("224.0.0.5", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon next to allowed bogon", udp4("192.168.78.5", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon link local v6", udp6("fe80::1", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon documentation v6", udp6("2001:db8::1", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon ula v6", udp6("fd00::1", 40000, 3478, binding()), ReasonDropBogon},
		{"bogon reply to ephemeral port", udp4("172.16.0.53", 53, 50000, make([]byte, 64)), ReasonDropBogon},
		{"static block v4", udp4("40.2.0.1", 40000, 3478, binding()), ReasonDropBlocked},
		{"static block v6", udp6("2a00:dead::7", 40000, 3478, binding()), ReasonDropBlocked},
	}
}

func withHop6(b []byte, hop byte) []byte { return with(b, func(b []byte) { b[14+7] = hop }) }

func TestVerdicts(t *testing.T) {
	f := openTest(t, testConfig())
	cases := append(legitimate(), attacks()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expect(t, f, c.frame, c.want) })
	}
}

// TestEveryReasonTested keeps the tables complete: a reason added to the C
// enum without a crafted packet fails here.
func TestEveryReasonTested(t *testing.T) {
	seen := map[Reason]bool{ReasonDropTruncated: true, ReasonDropDynamic: true, ReasonPassFragment: true,
		ReasonDropRateSYN: true, ReasonDropRateUDP: true, ReasonDropRateICMP: true} // own tests below
	for _, c := range append(legitimate(), attacks()...) {
		seen[c.want] = true
	}
	for _, r := range Reasons() {
		if !seen[r] {
			t.Errorf("no test packet for %v", r)
		}
	}
}

// TestTruncated cuts every legitimate frame at every length from the end of
// the Ethernet header on (the kernel refuses shorter test input) and checks
// the exact reason: inside a header the frame is truncated; past the IP
// header the IP length no longer fits the frame.
func TestTruncated(t *testing.T) {
	f := openTest(t, testConfig())
	for _, c := range legitimate() {
		l3 := 14
		etype := uint16(c.frame[12])<<8 | uint16(c.frame[13])
		for etype == tpid1Q || etype == tpidAD {
			l3 += 4
			etype = uint16(c.frame[l3-2])<<8 | uint16(c.frame[l3-1])
		}
		var hdr, total int
		switch etype {
		case ethIPv4:
			hdr, total = 20, int(c.frame[l3+2])<<8|int(c.frame[l3+3])
		case ethIPv6:
			hdr, total = 40, 40+(int(c.frame[l3+4])<<8|int(c.frame[l3+5]))
		default:
			continue // ARP: the program does not parse it
		}
		for n := 14; n < len(c.frame); n++ {
			want := ReasonDropIPHeader
			switch {
			case n < l3+hdr:
				want = ReasonDropTruncated
			case n >= l3+total: // only Ethernet padding is cut
				want = c.want
			}
			t.Run(c.name, func(t *testing.T) { expect(t, f, c.frame[:n], want) })
		}
	}
}

// TestTruncatedConsistent cuts inside transport headers while keeping the IP
// lengths consistent, so only the header bound can catch it.
func TestTruncatedConsistent(t *testing.T) {
	f := openTest(t, testConfig())
	cut4 := func(proto byte, l4 []byte) []byte { return ether(ethIPv4, ip4(client4, own4, proto, l4)) }
	cut6 := func(proto byte, l4 []byte, e ...ext) []byte {
		return ether(ethIPv6, ip6(client6, own6, proto, l4, e...))
	}
	cases := []testCase{
		{"udp header", cut4(protoUDP, udp(40000, 3478, nil)[:7]), ReasonDropTruncated},
		{"tcp header", cut4(protoTCP, tcp(45000, 443, tcpSYN)[:19]), ReasonDropTruncated},
		{"icmp header", cut4(protoICMP, icmp(8, 0)[:7]), ReasonDropTruncated},
		{"udp header v6", cut6(protoUDP, udp(40000, 3478, nil)[:6]), ReasonDropTruncated},
		{"icmpv6 header", cut6(protoICMPv6, icmp(128, 0)[:4]), ReasonDropTruncated},
		{"vlan tag", ether(ethIPv4, nil, tpid1Q)[:16], ReasonDropTruncated},
		{"second vlan tag", ether(ethIPv4, nil, tpidAD, tpid1Q)[:19], ReasonDropTruncated},
	}
	// The frame and the IPv6 payload length end inside an extension header.
	ex := cut6(protoUDP, nil, opts(60))
	ex = with(ex[:14+40+4], func(b []byte) { be16(b[18:], 4) })
	cases = append(cases, testCase{"ipv6 extension header", ex, ReasonDropTruncated})
	// The frame holds the header but the payload length ends inside it.
	ex2 := with(cut6(protoUDP, udp(40000, 3478, binding()), opts(60)), func(b []byte) { be16(b[18:], 4) })
	cases = append(cases, testCase{"ipv6 extension header beyond payload length", ex2, ReasonDropIPHeader})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expect(t, f, c.frame, c.want) })
	}
}

func TestFragmentsAllowed(t *testing.T) {
	c := testConfig()
	c.DropServiceFragments = false
	f := openTest(t, c)
	stun4 := udp4(client4, 40000, 3478, binding())
	later := with(stun4, func(b []byte) { be16(b[14+6:], 0x0010) })
	first := with(stun4, func(b []byte) { be16(b[14+6:], 0x2000) })
	expect(t, f, later, ReasonPassFragment)
	expect(t, f, first, ReasonPassService)
	// Source lists still apply to fragments.
	expect(t, f, with(later, func(b []byte) { copy(b[26:], []byte{10, 0, 0, 1}) }), ReasonDropBogon)
	expect(t, f, udp4("30.0.0.53", 53, 3478, make([]byte, 64)), ReasonDropReflect)
}

func TestDynamicBlock(t *testing.T) {
	f := openTest(t, testConfig())
	a4 := netip.MustParseAddr("30.0.0.50")
	frame4 := udp4(a4.String(), 40000, 3478, binding())
	expect(t, f, frame4, ReasonPassService)
	if err := f.Block(a4, time.Hour); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame4, ReasonDropDynamic)

	// A short block ends by itself: the program restores the verdict and
	// deletes the entry.
	timely(t, 500*time.Millisecond, func(try int) error {
		a6 := netip.AddrFrom16([16]byte{0x2a, 0, 0, 0x30, 15: byte(0x50 + try)})
		frame6 := udp6(a6.String(), 40000, 3478, binding())
		if err := f.Block(a6, 500*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := want(f, frame6, ReasonDropDynamic); err != nil {
			return err
		}
		// The block covers the /64 (an abuser owns it and can pick
		// any interface identifier); the next /64 is not blocked.
		other := a6.Next()
		if err := want(f, udp6(other.String(), 40000, 3478, binding()), ReasonDropDynamic); err != nil {
			return err
		}
		next := a6.As16()
		next[7]++
		if err := want(f, udp6(netip.AddrFrom16(next).String(), 40000, 3478, binding()), ReasonPassService); err != nil {
			return err
		}
		bs, err := f.Blocks()
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 2 {
			return fmt.Errorf("Blocks() = %v, want two entries", bs)
		}
		for _, b := range bs {
			if b.Prefix != netip.PrefixFrom(a4, 32) && b.Prefix != netip.MustParsePrefix("2a00:30::/64") {
				t.Fatalf("Blocks() lists %v", b.Prefix)
			}
			if left := time.Until(b.Expires); b.Prefix.Addr() == a4 && (left < 59*time.Minute || left > time.Hour) {
				t.Fatalf("%v expires in %v, want an hour", b.Prefix, left)
			}
		}
		time.Sleep(600 * time.Millisecond)
		expect(t, f, frame6, ReasonPassService)
		if all, err := f.entries(); err != nil {
			t.Fatal(err)
		} else if _, ok := all[BlockPrefix(a6)]; ok {
			t.Fatal("the program did not delete the expired /64 entry (BLOCK6_PREFIXLEN and Block6Bits differ?)")
		}
		return nil
	})

	// A new configuration keeps the blocks in force.
	if err := f.Configure(testConfig()); err != nil {
		t.Fatal(err)
	}
	expect(t, f, frame4, ReasonDropDynamic)

	if err := f.Unblock(a4); err != nil {
		t.Fatal(err)
	}
	if err := f.Unblock(a4); err != nil {
		t.Fatalf("unblocking twice: %v", err)
	}
	expect(t, f, frame4, ReasonPassService)
	if bs, _ := f.Blocks(); len(bs) != 0 {
		t.Fatalf("Blocks() = %v after unblocking", bs)
	}
	// A host-prefix IPv6 block pinned by an older version goes with an
	// unblock of its address too.
	legacy := netip.MustParseAddr("2a00:31::5")
	now, _ := monoNow()
	if err := f.putEntry(hostPrefix(legacy), aclEntry{Expiry: uint64(now + time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := f.Unblock(legacy); err != nil {
		t.Fatal(err)
	}
	if all, _ := f.entries(); len(all) != len(aclEntries(testConfig())) {
		t.Fatalf("unblock left a pinned host-prefix block: %d entries, want %d", len(all), len(aclEntries(testConfig())))
	}
	if err := f.Block(a4, 0); err == nil {
		t.Fatal("a zero time to live was accepted")
	}
	if err := f.Block(netip.MustParseAddr("40.1.0.1"), time.Hour); err == nil {
		t.Fatal("blocking an allowlisted address was accepted")
	}
}

// TestDynamicBlockFallsBack checks that when a block inside or on a static
// entry ends, the static verdict applies again.
func TestDynamicBlockFallsBack(t *testing.T) {
	c := testConfig()
	c.Block = append(c.Block, netip.MustParsePrefix("30.0.9.9/32"))
	c.AllowBogons = append(c.AllowBogons, netip.MustParsePrefix("10.7.7.7/32"))
	f := openTest(t, c)
	cases := []struct {
		addr  string
		after Reason
	}{
		{"30.0.9.9", ReasonDropBlocked},  // a static host prefix
		{"10.7.7.7", ReasonPassService},  // an allowed bogon host prefix
		{"10.7.7.8", ReasonDropBogon},    // inside a bogon range
		{"40.2.3.4", ReasonDropBlocked},  // inside a blocked range
		{"30.0.9.10", ReasonPassService}, // on no list
	}
	const ttl = time.Second
	timely(t, ttl, func(int) error {
		for _, tc := range cases {
			frame := udp4(tc.addr, 40000, 3478, binding())
			expect(t, f, frame, tc.after)
			if err := f.Block(netip.MustParseAddr(tc.addr), ttl); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range cases {
			if err := want(f, udp4(tc.addr, 40000, 3478, binding()), ReasonDropDynamic); err != nil {
				return err
			}
		}
		return nil
	})
	time.Sleep(ttl + 100*time.Millisecond)
	for _, tc := range cases {
		expect(t, f, udp4(tc.addr, 40000, 3478, binding()), tc.after)
	}
	// Static entries survive the expiry; the dynamic-only ones are gone.
	all, err := f.entries()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		e, ok := all[hostPrefix(netip.MustParseAddr(tc.addr))]
		static := tc.addr == "30.0.9.9" || tc.addr == "10.7.7.7"
		if ok != static || e.Expiry != 0 {
			t.Errorf("%s: entry %+v present=%v after expiry, want present=%v", tc.addr, e, ok, static)
		}
	}
}

func TestRateLimits(t *testing.T) {
	c := testConfig()
	c.UDPRate, c.UDPBurst = 1, 3
	c.SYNRate, c.SYNBurst = 1, 2
	c.ICMPRate, c.ICMPBurst = 1, 1
	f := openTest(t, c)

	// Budgets hold one token a second: each attempt must finish within
	// one, with sources of its own.
	timely(t, time.Second, func(try int) error {
		src := func(last byte) string { return netip.AddrFrom4([4]byte{30, 1, byte(try), last}).String() }
		steps := []struct {
			frame []byte
			want  Reason
		}{
			{udp4(src(1), 40000, 3478, binding()), ReasonPassService},
			{udp4(src(1), 40000, 3478, binding()), ReasonPassService},
			{udp4(src(1), 40000, 3478, binding()), ReasonPassService},
			{udp4(src(1), 40000, 3478, binding()), ReasonDropRateUDP},
			// Replies count against the same UDP budget.
			{udp4(src(1), 53, 50000, make([]byte, 40)), ReasonDropRateUDP},
			// Budgets are per class: the source may still connect.
			{tcp4(src(1), 45000, 443, tcpSYN), ReasonPassService},
			{tcp4(src(1), 45000, 443, tcpSYN), ReasonPassService},
			{tcp4(src(1), 45000, 443, tcpSYN), ReasonDropRateSYN},
			// Established segments are not charged to the SYN budget.
			{tcp4(src(1), 45000, 443, tcpACK), ReasonPassService},
			{ether(ethIPv4, ip4(src(1), own4, protoICMP, icmp(8, 0))), ReasonPassICMP},
			{ether(ethIPv4, ip4(src(1), own4, protoICMP, icmp(8, 0))), ReasonDropRateICMP},
			// Another source has its own budget.
			{udp4(src(2), 40000, 3478, binding()), ReasonPassService},
		}
		// An IPv6 /64 shares one budget.
		for i := range 4 {
			a := netip.AddrFrom16([16]byte{0x2a, 0, 0, 0x31, 7: byte(try), 15: byte(i + 1)})
			w := ReasonPassService
			if i == 3 {
				w = ReasonDropRateUDP
			}
			steps = append(steps, struct {
				frame []byte
				want  Reason
			}{udp6(a.String(), 40000, 3478, binding()), w})
		}
		for i, s := range steps {
			if err := want(f, s.frame, s.want); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		}
		return nil
	})
	// Allowed sources skip the budgets.
	for range 5 {
		expect(t, f, udp4("40.1.0.9", 40000, 3478, binding()), ReasonPassService)
	}
	// The bucket refills: one token per second.
	stun := udp4("30.1.9.1", 40000, 3478, binding())
	for range 3 {
		expect(t, f, stun, ReasonPassService)
	}
	time.Sleep(1100 * time.Millisecond)
	timely(t, time.Second, func(int) error {
		if err := want(f, stun, ReasonPassService); err != nil {
			return err
		}
		return want(f, stun, ReasonDropRateUDP)
	})
}

// TestTrackBudget checks that once the budget for new entries is spent, new
// sources pass untracked instead of evicting tracked ones.
func TestTrackBudget(t *testing.T) {
	c := testConfig()
	c.UDPRate, c.UDPBurst = 1, 2
	c.TrackRate, c.TrackBurst = 1, 3
	// The admission budget is per CPU, and BPF_PROG_TEST_RUN runs on the
	// caller's CPU: stay on one.
	onOneCPU(t)
	timely(t, time.Second, func(int) error {
		f := openTest(t, c)
		heavy := udp4("30.0.2.1", 40000, 3478, binding())
		for i, w := range []Reason{ReasonPassService, ReasonPassService, ReasonDropRateUDP} {
			if err := want(f, heavy, w); err != nil {
				return fmt.Errorf("heavy source, packet %d: %w", i, err)
			}
		}
		// A spoofed flood spends the track budget; later sources are
		// untracked.
		for i := range 20 {
			if err := want(f, udp4(netip.AddrFrom4([4]byte{31, 0, 0, byte(i + 1)}).String(), 40000, 3478, binding()), ReasonPassService); err != nil {
				return err
			}
		}
		// The heavy source is still tracked and still limited. (Checked
		// before the walk over the 2^17 slots below, which takes long
		// enough on a loaded machine for its bucket to refill.)
		if err := want(f, heavy, ReasonDropRateUDP); err != nil {
			return err
		}
		n := 0
		var k uint32
		var v xdpSourceSlot
		for it := f.objs.Sources.Iterate(); it.Next(&k, &v); {
			if v.Key != 0 {
				n++
			}
		}
		if n != 3 {
			return fmt.Errorf("%d sources tracked, want 3 (the heavy one + the 2 tokens left)", n)
		}
		return nil
	})
}

func TestPinnedMapsSurvive(t *testing.T) {
	testenv.RequireRoot(t)
	dir := pinDir(t)
	f1, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig()
	c.Block = append(c.Block, netip.MustParsePrefix("30.0.9.9/32"))
	if err := f1.Configure(c); err != nil {
		t.Fatal(err)
	}
	onList := netip.MustParseAddr("30.0.9.9")
	if err := f1.Block(onList, time.Hour); err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("30.0.0.77")
	if err := f1.Block(a, time.Hour); err != nil {
		t.Fatal(err)
	}
	expect(t, f1, udp4(client4, 40000, 3478, binding()), ReasonPassService)
	f1.Close()

	f2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	// A new program instance sees the old configuration, block and counts.
	expect(t, f2, udp4(a.String(), 40000, 3478, binding()), ReasonDropDynamic)
	cs := snapshot(t, f2)
	if cs[ReasonPassService].Packets != 1 {
		t.Fatalf("pass_service = %d after reopening, want 1", cs[ReasonPassService].Packets)
	}
	// Before any Configure, the reopened filter knows the static lists:
	// unblocking a statically blocked address keeps it blocked, and a
	// new block in a bogon range falls back to bogon.
	if err := f2.Unblock(onList); err != nil {
		t.Fatal(err)
	}
	expect(t, f2, udp4(onList.String(), 40000, 3478, binding()), ReasonDropBlocked)
	if err := f2.Block(netip.MustParseAddr("10.5.5.5"), time.Hour); err != nil {
		t.Fatal(err)
	}
	all, err := f2.entries()
	if err != nil {
		t.Fatal(err)
	}
	if e := all[netip.MustParsePrefix("10.5.5.5/32")]; e.Action != xdpAclActionACL_BOGON || e.IsStatic != 0 {
		t.Fatalf("block in a bogon range stored as %+v", e)
	}
	if err := f2.Unpin(); err != nil {
		t.Fatal(err)
	}
}

// onOneCPU pins the test's goroutine to one OS thread and that thread to
// the CPU it is on, until the test ends.
func onOneCPU(t *testing.T) {
	t.Helper()
	runtime.LockOSThread()
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Fatal(err)
	}
	var c uint32
	if _, _, e := unix.Syscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), 0, 0); e != 0 {
		t.Fatal(e)
	}
	one.Set(int(c))
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.SchedSetaffinity(0, &old)
		runtime.UnlockOSThread()
	})
}

package supernode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// datagram is one captured IPv4 UDP datagram.
type datagram struct {
	src, dst netip.AddrPort
	payload  []byte
}

func (d datagram) String() string {
	return fmt.Sprintf("%s > %s %d bytes", d.src, d.dst, len(d.payload))
}

// capture is a running tcpdump writing a pcap file.
type capture struct {
	p    *proc
	file string
}

// startCapture records the UDP datagrams on interface ifname inside r's
// namespace. tcpdump is the independent witness: what it saw crossed the
// wire, whatever the supernode's own counters say.
func startCapture(t *testing.T, r runner, ifname string) *capture {
	t.Helper()
	testenv.RequireCommands(t, "tcpdump")
	file := filepath.Join(t.TempDir(), ifname+".pcap")
	// --immediate-mode and -U: take and write each packet as it comes (else
	// packets wait in the kernel ring for up to a second and a stop loses them);
	// -s 0: whole packets; -n: no name lookups; -Z root: keep root, as
	// the file lives in the test's private (0700) temp dir.
	p := r.start(t, "tcpdump", "tcpdump", "-Z", "root", "-i", ifname, "-w", file, "-U", "--immediate-mode", "-n", "-s", "0", "udp")
	if _, ok := p.errb.wait("tcpdump: listening on", 10*time.Second, p.done); !ok {
		t.Fatalf("tcpdump did not start on %s:\n%s", ifname, p)
	}
	return &capture{p: p, file: file}
}

// stop ends the capture and returns its datagrams.
func (c *capture) stop(t *testing.T) []datagram {
	t.Helper()
	// Let the last packets reach tcpdump's buffer before it stops.
	time.Sleep(200 * time.Millisecond)
	c.p.stop()
	b, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := parsePcap(b)
	if err != nil {
		t.Fatalf("%s: %v", c.file, err)
	}
	return d
}

// parsePcap reads a classic pcap file of Ethernet frames (what tcpdump
// writes for a veth) and returns the IPv4 UDP datagrams in it; other frames
// are skipped.
func parsePcap(b []byte) ([]datagram, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("pcap: %d bytes, shorter than the file header", len(b))
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b[0:4]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", b[0:4])
	}
	if lt := bo.Uint32(b[20:24]); lt != 1 {
		return nil, fmt.Errorf("pcap: link type %d, want 1 (Ethernet)", lt)
	}
	var out []datagram
	for b = b[24:]; len(b) >= 16; {
		n := int(bo.Uint32(b[8:12]))
		if 16+n > len(b) {
			break // a record cut short by the capture's end
		}
		if d, ok := parseFrame(b[16 : 16+n]); ok {
			out = append(out, d)
		}
		b = b[16+n:]
	}
	return out, nil
}

func parseFrame(f []byte) (datagram, bool) {
	if len(f) < 14 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 {
		return datagram{}, false
	}
	ip := f[14:]
	if len(ip) < 20 || ip[0]>>4 != 4 || ip[9] != 17 {
		return datagram{}, false
	}
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:4]))
	if ihl < 20 || total < ihl+8 || total > len(ip) {
		return datagram{}, false
	}
	udp := ip[ihl:total]
	ulen := int(binary.BigEndian.Uint16(udp[4:6]))
	if ulen < 8 || ulen > len(udp) {
		return datagram{}, false
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(udp[0:2]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(udp[2:4]))
	return datagram{src: src, dst: dst, payload: append([]byte(nil), udp[8:ulen]...)}, true
}

package client_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/client"
)

// fakeGateway answers each NAT-PMP request with the datagrams reply returns.
func fakeGateway(t *testing.T, reply func(req []byte) [][]byte) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			for _, b := range reply(append([]byte(nil), buf[:n]...)) {
				c.WriteToUDPAddrPort(b, from)
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func natpmpAnswer(op byte, result uint16, body ...byte) []byte {
	b := []byte{0, op, 0, 0, 0, 0, 0, 7}
	binary.BigEndian.PutUint16(b[2:], result)
	return append(b, body...)
}

// TestMapUDPHostileGateway (hostile): answers of the wrong opcode, the
// wrong size, another version or garbage are ignored, and the right answer
// after them is used; a mapping for another internal port or to port 0 is
// refused; a result code is reported with its meaning.
func TestMapUDPHostileGateway(t *testing.T) {
	good := func(req []byte) [][]byte {
		junk := [][]byte{{0xff}, {1, 128, 0, 0}, natpmpAnswer(req[1]+129, 0), natpmpAnswer(req[1]+128, 0, 1, 2)}
		if req[1] == 0 {
			return append(junk, natpmpAnswer(128, 0, 192, 0, 3, 1))
		}
		a := natpmpAnswer(129, 0, req[4], req[5], 0xc3, 0x50, 0, 0, 0x1c, 0x20) // external 50000, 7200 s
		return append(junk, a)
	}
	m, err := client.MapUDPAt(context.Background(), fakeGateway(t, good), 4000, 0, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if m.External != netip.MustParseAddrPort("192.0.3.1:50000") || m.Internal != 4000 || m.Lifetime != 2*time.Hour || m.Epoch != 7 {
		t.Fatalf("mapping %+v", m)
	}

	wrongPort := func(req []byte) [][]byte {
		if req[1] == 0 {
			return [][]byte{natpmpAnswer(128, 0, 192, 0, 3, 1)}
		}
		return [][]byte{natpmpAnswer(129, 0, 0x10, 0x00, 0, 0, 0, 0, 0x1c, 0x20)} // internal 4096, external 0
	}
	if _, err := client.MapUDPAt(context.Background(), fakeGateway(t, wrongPort), 4000, 0, time.Hour); err == nil {
		t.Fatal("a mapping for another internal port was accepted")
	}

	refused := func(req []byte) [][]byte { return [][]byte{natpmpAnswer(req[1]+128, 2)} }
	_, err = client.MapUDPAt(context.Background(), fakeGateway(t, refused), 4000, 0, time.Hour)
	var pe *client.NATPMPError
	if !errors.As(err, &pe) || pe.Code != 2 {
		t.Fatalf("err = %v, want NAT-PMP result 2", err)
	}
}

package testenv

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestVethPing(t *testing.T) {
	RequireRoot(t)
	a, b := NewNS(t, "te"), NewNS(t, "te")
	aIf, _ := Veth(t, a, "10.99.0.1/24,fd99::1/64", b, "10.99.0.2/24,fd99::2/64")
	out := a.Exec(t, "ip", "-o", "addr", "show", "dev", aIf)
	if !strings.Contains(out, "10.99.0.1/24") {
		t.Fatalf("address missing on %s: %s", aIf, out)
	}

	// A datagram from a reaches a listener in b across the pair.
	var conn *net.UDPConn
	if err := b.Do(func() (err error) {
		conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("fd99::2"), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := a.Do(func() error {
		c, err := net.Dial("udp", "[fd99::2]:9999")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	if n, from, err := conn.ReadFromUDP(buf); err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read across veth: %q from %v: %v", buf[:n], from, err)
	}

	// Go code inside b sees b's interfaces, not the host's.
	var names []string
	if err := b.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 {
		t.Fatalf("interfaces inside %s = %v, want lo and one veth", b.Name, names)
	}
}

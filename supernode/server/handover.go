package server

import (
	"fmt"
	"net"
	"net/netip"
	"os"
)

// udpConns turns files handed over by the service manager into UDP
// sockets. Anything that is not a bound UDP socket is an operator error
// (a unit that passes the wrong descriptors).
func udpConns(files []*os.File) ([]*net.UDPConn, error) {
	var out []*net.UDPConn
	for i, f := range files {
		pc, err := net.FilePacketConn(f)
		f.Close() // FilePacketConn made its own copy
		if err != nil {
			closeConns(out)
			closeFiles(files[i+1:])
			return nil, fmt.Errorf("inherited descriptor %q is not a UDP socket (%v); remove it from the unit's fd store with `systemctl clean --what=fdstore supernode`", f.Name(), err)
		}
		c, ok := pc.(*net.UDPConn)
		if !ok {
			pc.Close()
			closeConns(out)
			closeFiles(files[i+1:])
			return nil, fmt.Errorf("inherited descriptor %q is not a UDP socket; remove it from the unit's fd store with `systemctl clean --what=fdstore supernode`", f.Name())
		}
		out = append(out, c)
	}
	return out, nil
}

// takeMatching removes from *have and returns the sockets bound to listen
// address l (":3478" is the dual-stack wildcard [::]:3478).
func takeMatching(have *[]*net.UDPConn, l string) []*net.UDPConn {
	want, err := parseListen(l)
	if err != nil {
		return nil
	}
	var got, rest []*net.UDPConn
	for _, c := range *have {
		la := addrPortOf(c.LocalAddr())
		same := la.Port() == want.Port() && want.Port() != 0
		switch {
		case !want.Addr().IsValid(): // ":port": the IPv6 wildcard
			same = same && la.Addr() == netip.IPv6Unspecified()
		default:
			same = same && la.Addr().Unmap() == want.Addr().Unmap()
		}
		if same {
			got = append(got, c)
		} else {
			rest = append(rest, c)
		}
	}
	*have = rest
	return got
}

func closeConns(cs []*net.UDPConn) {
	for _, c := range cs {
		c.Close()
	}
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

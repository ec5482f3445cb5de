package client

import (
	"net"
	"net/netip"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// Candidates returns the host addresses to announce for conn: its own
// address if bound to one, else the usable unicast addresses of the up
// interfaces (no loopback, no link-local: a peer elsewhere cannot reach
// them), with conn's port, at most wire.MaxCandidates.
func Candidates(conn *net.UDPConn) []netip.AddrPort {
	la := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	port := la.Port()
	if a := la.Addr().Unmap(); !a.IsUnspecified() {
		return []netip.AddrPort{netip.AddrPortFrom(a, port)}
	}
	v4only := la.Addr().Is4()
	var out []netip.AddrPort
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLinkLocalUnicast() || ip.IsLoopback() || !ip.IsGlobalUnicast() || v4only && !ip.Is4() {
				continue
			}
			out = append(out, netip.AddrPortFrom(ip, port))
			if len(out) == wire.MaxCandidates {
				return out
			}
		}
	}
	return out
}

package hardening

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

var (
	nftPolicyRE = regexp.MustCompile(`hook\s+input\b[^;]*;\s*policy\s+(\w+)`)
	// An accept rule, optionally only from an address set (@fleet4).
	nftPortsRE = regexp.MustCompile(`(?:\bip6?\s+saddr\s+(@\w+|\S+)\s+)?\b(tcp|udp)\s+dport\s+(\{[^}]*\}|\d+)\s+accept`)
	// Elements written into the file: a gate's sets must start empty.
	nftElementsRE = regexp.MustCompile(`\belements\s*=`)
)

// checkNftables reads the ruleset file nftables.service loads: the input
// hook must drop by default and accept only declared ports, a gated port
// ("udp/7946 from fleet") only from its sets @fleet4/@fleet6, which the
// file must declare without elements (appliance-firewall fills them from
// the configuration at boot).
func checkNftables(c *Control, t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	b, err := os.ReadFile(inRoot(t.Root, nftFile))
	if err != nil {
		return false, []Evidence{{Where: nftFile, Found: "missing", Expected: "default-deny ruleset"}}, nil
	}
	rules := string(b)
	policy := "none"
	if m := nftPolicyRE.FindStringSubmatch(rules); m != nil {
		policy = m[1]
	}
	ev = append(ev, Evidence{Where: nftFile, Found: "input policy " + policy, Expected: "input policy drop", OK: policy == "drop"})
	declared := map[string]bool{}
	for _, v := range c.Values {
		declared[v] = true
	}
	open := map[string]bool{}
	for _, m := range nftPortsRE.FindAllStringSubmatch(rules, -1) {
		from := ""
		switch src := m[1]; {
		case src == "":
		case strings.HasPrefix(src, "@"):
			// The sets of gate g are g4 and g6.
			from = " from " + strings.TrimRight(strings.TrimPrefix(src, "@"), "46")
		default:
			from = " from " + src // a literal source: declared by no value
		}
		for _, p := range strings.FieldsFunc(m[3], func(r rune) bool { return r == '{' || r == '}' || r == ',' || r == ' ' }) {
			open[m[2]+"/"+p+from] = true
		}
	}
	for _, p := range sortedKeys(open) {
		ev = append(ev, Evidence{Where: nftFile, Found: "accepts " + p, Expected: "declared port", OK: declared[p]})
	}
	if nftElementsRE.MatchString(rules) {
		ev = append(ev, Evidence{Where: nftFile, Found: "a set with elements", Expected: "address sets empty until appliance-firewall fills them"})
	}
	_, errNft := os.Stat(inRoot(t.Root, "/usr/sbin/nft"))
	_, enabled := enabledUnits(t.Root)["nftables.service"]
	ev = append(ev, Evidence{Where: "/usr/sbin/nft, nftables.service", Found: fmt.Sprintf("nft present %t, nftables.service enabled %t", errNft == nil, enabled),
		Expected: "installed and enabled", OK: errNft == nil && enabled})
	return allOK(ev), ev, nil
}

// Socket is one listening socket from /proc/net.
type Socket struct {
	Proto string
	Addr  netip.AddrPort
}

// ListeningSockets parses /proc/net/{tcp,tcp6,udp,udp6}: TCP sockets in
// LISTEN (0A), UDP sockets that are bound and unconnected (07).
func ListeningSockets(proc string) ([]Socket, error) {
	var out []Socket
	for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile(filepath.Join(proc, "net", f))
		if err != nil {
			if os.IsNotExist(err) {
				continue // IPv6 disabled
			}
			return nil, err
		}
		want := "0A"
		if strings.HasPrefix(f, "udp") {
			want = "07"
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 4 || fs[3] != want {
				continue
			}
			ap, err := parseProcAddr(fs[1])
			if err != nil {
				continue
			}
			out = append(out, Socket{Proto: strings.TrimSuffix(f, "6"), Addr: ap})
		}
	}
	return out, nil
}

// parseProcAddr decodes "0100007F:0CA6" (IPv4) or 32 hex digits (IPv6):
// the address is in host byte order per 32-bit word.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		w := binary.LittleEndian.Uint32(raw[i:])
		binary.BigEndian.PutUint32(raw[i:], w)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

func checkListening(c *Control, t *Target) (bool, []Evidence, error) {
	socks, err := ListeningSockets(t.Proc)
	if err != nil {
		return false, nil, errAt(filepath.Join(t.Proc, "net", "{tcp,tcp6,udp,udp6}"), "unreadable: "+err.Error(), "the listening sockets", err)
	}
	declared := map[string]bool{}
	for _, v := range c.Values {
		spec, _, _ := strings.Cut(v, " from ") // who may reach it is the firewall's business
		declared[spec] = true
	}
	seen := map[string]bool{}
	var ev []Evidence
	for _, s := range socks {
		key := s.Proto + " " + s.Addr.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		pp := fmt.Sprintf("%s/%d", s.Proto, s.Addr.Port())
		ok := declared[pp] || s.Addr.Addr().IsLoopback()
		ev = append(ev, Evidence{Where: filepath.Join(t.Proc, "net", s.Proto), Found: key, Expected: "declared port or loopback", OK: ok})
	}
	sort.Slice(ev, func(i, j int) bool { return ev[i].Found < ev[j].Found })
	if len(ev) == 0 {
		return true, []Evidence{{Where: filepath.Join(t.Proc, "net"), Found: "no listening sockets", Expected: "declared ports only", OK: true}}, nil
	}
	return allOK(ev), ev, nil
}

// Link is a network interface and its XDP state from RTM_GETLINK.
type Link struct {
	Name    string
	Index   int
	Up      bool
	Ether   bool
	XDPMode string // "", "driver", "generic", "offload", "multi"
	XDPProg uint32
}

// Links lists interfaces with their XDP attachment (IFLA_XDP) over rtnetlink
// in the caller's network namespace.
func Links() ([]Link, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink dump: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK || len(m.Data) < syscall.SizeofIfInfomsg {
			continue
		}
		ifi := (*syscall.IfInfomsg)(unsafePointer(m.Data))
		l := Link{Index: int(ifi.Index), Up: ifi.Flags&unix.IFF_UP != 0, Ether: ifi.Type == unix.ARPHRD_ETHER}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_IFNAME:
				l.Name = strings.TrimRight(string(a.Value), "\x00")
			case unix.IFLA_XDP:
				l.XDPMode, l.XDPProg = parseXDPAttr(a.Value)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// parseXDPAttr decodes the nested IFLA_XDP attributes (if_link.h).
func parseXDPAttr(b []byte) (mode string, prog uint32) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ unix.NLA_F_NESTED
		if l < 4 || l > len(b) {
			break
		}
		v := b[4:l]
		switch typ {
		case unix.IFLA_XDP_ATTACHED:
			if len(v) >= 1 {
				mode = map[uint8]string{0: "", 1: "driver", 2: "generic", 3: "offload", 4: "multi"}[v[0]]
			}
		case unix.IFLA_XDP_PROG_ID:
			if len(v) >= 4 {
				prog = binary.NativeEndian.Uint32(v)
			}
		}
		b = b[(l+3)&^3:]
	}
	return mode, prog
}

// checkXDP: every Ethernet interface that is up carries an XDP program.
func checkXDP(c *Control, t *Target) (bool, []Evidence, error) {
	links, err := Links()
	if err != nil {
		return false, nil, errAt("rtnetlink RTM_GETLINK", "no link dump: "+err.Error(), "every Ethernet uplink with XDP attached", err)
	}
	var ev []Evidence
	for _, l := range links {
		if !l.Up || !l.Ether {
			continue
		}
		found := "no XDP program"
		if l.XDPMode != "" {
			found = fmt.Sprintf("XDP prog id %d (%s mode)", l.XDPProg, l.XDPMode)
		}
		ev = append(ev, Evidence{Where: "rtnetlink " + l.Name, Found: found, Expected: "XDP attached", OK: l.XDPMode != ""})
	}
	if len(ev) == 0 {
		return false, []Evidence{{Where: "rtnetlink", Found: "no Ethernet interface is up", Expected: "an uplink with XDP"}}, nil
	}
	return allOK(ev), ev, nil
}

// Package control is the client of supernode-xdp's control socket, used by
// the supernode's abuse reporter and by the operator CLI.
//
// The protocol is one request line per command and one answer per request,
// so it can be driven by hand with `socat - UNIX:/run/supernode-xdp/control.sock`:
//
//	block <ip> <ttl-seconds> <reason>\n   -> blocked <ip-or-/64> <seconds>\n ok\n
//	force-block <ip> <ttl-seconds> <reason>\n  (root only: skips the never-block
//	                                       list and the report TTL cap)
//	unblock <ip>\n                        -> ok\n
//	list\n                                -> <ip> <seconds-left> [reason]\n ... ok\n
//	counters [interface]\n               -> <reason> <packets> <bytes>\n ... ok\n
//	interfaces\n                          -> <name> <ifindex> <mode> <program-id>\n ... ok\n
//	status\n                              -> <key> <value>\n ... ok\n
//
// Any request may instead be answered "error: <text>\n".
package control

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultSocket is where supernode-xdp listens unless configured otherwise.
const DefaultSocket = "/run/supernode-xdp/control.sock"

// MaxLine bounds a request or answer line; the server rejects longer ones.
const MaxLine = 512

// Client talks to one controller over one connection. It is safe for
// concurrent use; requests are serialised.
type Client struct {
	mu      sync.Mutex
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// Dial connects to the control socket at path.
func Dial(path string) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to the XDP controller at %s: %v; is supernode-xdp running, and may this user open the socket (group of control_group)?", path, unwrapOp(err))
	}
	return &Client{conn: conn, r: bufio.NewReaderSize(conn, MaxLine), timeout: 10 * time.Second}, nil
}

// Close ends the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Error is an "error: ..." answer from the controller.
type Error struct{ Text string }

func (e *Error) Error() string { return "the controller refused: " + e.Text }

// Do sends one raw request line (without newline) and returns the data lines
// of a successful answer.
func (c *Client) Do(request string) ([]string, error) {
	if strings.ContainsAny(request, "\r\n") || len(request)+1 > MaxLine {
		return nil, fmt.Errorf("control request must be one line shorter than %d bytes", MaxLine)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write([]byte(request + "\n")); err != nil {
		return nil, fmt.Errorf("control socket: %v", unwrapOp(err))
	}
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("control socket: answer cut short: %v", unwrapOp(err))
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "ok":
			return lines, nil
		case strings.HasPrefix(line, "error: "):
			return nil, &Error{Text: strings.TrimPrefix(line, "error: ")}
		default:
			lines = append(lines, line)
		}
	}
}

// Block asks the controller to drop every packet from addr (its /64 for
// IPv6) for ttl (rounded up to whole seconds; the controller may shorten
// it, see BlockAs). reason is logged by the controller and shown by List;
// it must not contain a newline.
func (c *Client) Block(addr netip.Addr, ttl time.Duration, reason string) error {
	_, err := c.BlockAs(addr, ttl, reason, false)
	return err
}

// Blocked is what the controller blocked and for how long.
type Blocked struct {
	Prefix netip.Prefix
	TTL    time.Duration
}

// BlockAs is Block returning what the controller granted; force (root
// only) asks for a block the never-block list and report_max_ttl would
// refuse or shorten.
func (c *Client) BlockAs(addr netip.Addr, ttl time.Duration, reason string, force bool) (Blocked, error) {
	secs := int64((ttl + time.Second - 1) / time.Second)
	if reason = strings.TrimSpace(reason); reason == "" {
		reason = "-"
	}
	cmd := "block"
	if force {
		cmd = "force-block"
	}
	lines, err := c.Do(fmt.Sprintf("%s %s %d %s", cmd, addr, secs, reason))
	if err != nil {
		return Blocked{}, err
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "blocked" {
			p, perr := parseBlocked(f[1])
			n, nerr := strconv.ParseInt(f[2], 10, 64)
			if perr == nil && nerr == nil {
				return Blocked{Prefix: p, TTL: time.Duration(n) * time.Second}, nil
			}
		}
	}
	// An older controller answers a bare "ok".
	return Blocked{Prefix: netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()), TTL: time.Duration(secs) * time.Second}, nil
}

// FormatBlock writes a block prefix as the protocol and the CLI show it:
// an IPv4 block as its address, an IPv6 one as its /64. parseBlocked is
// its inverse.
func FormatBlock(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

// parseBlocked reads a block as listed: an address or a prefix.
func parseBlocked(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Unblock removes a dynamic block before it expires.
func (c *Client) Unblock(addr netip.Addr) error {
	_, err := c.Do("unblock " + addr.String())
	return err
}

// Block is one entry of the dynamic block list.
type Block struct {
	Addr    netip.Addr   // the blocked address, or the first of the IPv6 /64
	Prefix  netip.Prefix // what is blocked: Addr/32, or the IPv6 /64
	Expires time.Time    // computed from the seconds left when listed
	Reason  string       // empty if the controller no longer knows it (e.g. after a restart)
}

// List returns the current dynamic blocks.
func (c *Client) List() ([]Block, error) {
	lines, err := c.Do("list")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]Block, 0, len(lines))
	for _, l := range lines {
		f := strings.SplitN(l, " ", 3)
		if len(f) < 2 {
			return nil, fmt.Errorf("control socket: malformed block line %q", l)
		}
		p, err := parseBlocked(f[0])
		if err != nil {
			return nil, fmt.Errorf("control socket: malformed block line %q", l)
		}
		secs, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("control socket: malformed block line %q", l)
		}
		b := Block{Addr: p.Addr(), Prefix: p, Expires: now.Add(time.Duration(secs) * time.Second)}
		if len(f) == 3 {
			b.Reason = f[2]
		}
		out = append(out, b)
	}
	return out, nil
}

// Counter is the packets and bytes the filter counted for one reason.
type Counter struct {
	Reason         string
	Packets, Bytes uint64
}

// Counters returns the filter's counters by reason.
func (c *Client) Counters() ([]Counter, error) {
	return c.counters("counters")
}

// InterfaceCounters returns the counters of the filter on one interface
// (by name): each interface runs its own instance of the filter.
func (c *Client) InterfaceCounters(name string) ([]Counter, error) {
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return nil, fmt.Errorf("control: %q is not an interface name", name)
	}
	return c.counters("counters " + name)
}

func (c *Client) counters(req string) ([]Counter, error) {
	lines, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	out := make([]Counter, 0, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 3 {
			return nil, fmt.Errorf("control socket: malformed counter line %q", l)
		}
		p, err1 := strconv.ParseUint(f[1], 10, 64)
		b, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("control socket: malformed counter line %q", l)
		}
		out = append(out, Counter{Reason: f[0], Packets: p, Bytes: b})
	}
	return out, nil
}

// Interface is one interface the filter is attached to.
type Interface struct {
	Name    string
	Index   int
	Mode    string // "native" (driver) or "generic" (skb)
	Program int    // id of the filter instance attached to it (0: not reported)
}

// Interfaces lists the interfaces the filter is attached to.
func (c *Client) Interfaces() ([]Interface, error) {
	lines, err := c.Do("interfaces")
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(lines))
	for _, l := range lines {
		// Controllers before per-interface programs sent three fields.
		f := strings.Fields(l)
		if len(f) != 3 && len(f) != 4 {
			return nil, fmt.Errorf("control socket: malformed interface line %q", l)
		}
		idx, err := strconv.Atoi(f[1])
		prog := 0
		if err == nil && len(f) == 4 {
			prog, err = strconv.Atoi(f[3])
		}
		if err != nil {
			return nil, fmt.Errorf("control socket: malformed interface line %q", l)
		}
		out = append(out, Interface{Name: f[0], Index: idx, Mode: f[2], Program: prog})
	}
	return out, nil
}

// Status returns the controller's status as key/value pairs in the order
// sent (version, uptime, config, interfaces, blocks, ...).
func (c *Client) Status() ([][2]string, error) {
	lines, err := c.Do("status")
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(lines))
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

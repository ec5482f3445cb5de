package fleet

import (
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/hashicorp/memberlist"
)

// memberlist reads a whole gossip stream (push/pull state, up to 20 MB)
// into memory before it decrypts it, so before it can tell the key is
// wrong, and it accepts TCP connections from anyone. gossipTransport is
// memberlist's own NetTransport with a gate in front of the stream
// listener: connections from outside fleet_allow are closed unread, at most
// maxGossipStreams are open at once, and each may deliver at most
// maxGossipStream bytes. The worst case before authentication drops from
// 20 MB per connection, unbounded connections, to 16 x 1 MiB.
// (memberlist's CIDRsAllowed, set as well, filters UDP gossip and the
// addresses of members, but not TCP accepts.)
type gossipTransport struct {
	*memberlist.NetTransport
	allow   []net.IPNet
	met     *metrics
	streams chan net.Conn
	done    chan struct{}
	open    atomic.Int32
}

const (
	maxGossipStreams = 16
	// maxGossipStream holds the push/pull state of thousands of members
	// (about 150 bytes each), far more than an appliance fleet has.
	maxGossipStream = 1 << 20
)

func newGossipTransport(bind netip.AddrPort, allow []net.IPNet, met *metrics, logger *slog.Logger) (*gossipTransport, error) {
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{bind.Addr().String()},
		BindPort:  int(bind.Port()),
		Logger:    log.New(memberlistLog{logger, met}, "", 0),
	})
	if err != nil {
		return nil, err
	}
	t := &gossipTransport{NetTransport: nt, allow: allow, met: met, streams: make(chan net.Conn), done: make(chan struct{})}
	go t.gate()
	return t, nil
}

// StreamCh is what memberlist reads accepted connections from.
func (t *gossipTransport) StreamCh() <-chan net.Conn { return t.streams }

func (t *gossipTransport) allowed(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, n := range t.allow {
		if n.Contains(ta.IP) {
			return true
		}
	}
	return false
}

// Shutdown stops the gate and the listeners.
func (t *gossipTransport) Shutdown() error {
	select {
	case <-t.done:
	default:
		close(t.done)
	}
	return t.NetTransport.Shutdown()
}

func (t *gossipTransport) gate() {
	for {
		var c net.Conn
		select {
		case <-t.done:
			return
		case c = <-t.NetTransport.StreamCh():
		}
		switch {
		case !t.allowed(c.RemoteAddr()):
			t.met.gossipStreams.WithLabelValues("refused_source").Inc()
			c.Close()
		case t.open.Add(1) > maxGossipStreams:
			t.open.Add(-1)
			t.met.gossipStreams.WithLabelValues("refused_busy").Inc()
			c.Close()
		default:
			t.met.gossipStreams.WithLabelValues("accepted").Inc()
			select {
			case t.streams <- &cappedConn{Conn: c, left: maxGossipStream, t: t}:
			case <-t.done:
				c.Close()
				return
			}
		}
	}
}

// cappedConn fails reads past its byte budget and gives its slot back on
// Close.
type cappedConn struct {
	net.Conn
	left   int64
	t      *gossipTransport
	closed atomic.Bool
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.t.met.gossipStreams.WithLabelValues("capped").Inc()
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cappedConn) Close() error {
	if !c.closed.Swap(true) {
		c.t.open.Add(-1)
	}
	return c.Conn.Close()
}

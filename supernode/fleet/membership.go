package fleet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"

	"github.com/hashicorp/memberlist"
)

// meta is what a member gossips about itself in memberlist's node metadata
// (at most memberlist.MetaMaxSize bytes): version(1) boot(8) capacity(4)
// data-port(2) supernode-address [flags(1)]. boot is random per process start: a member
// that crashed and came back under the same name within one settle period
// has an empty store, and only its new boot tells the others to refill it.
//
// flags is optional (members before it ignore trailing bytes): bit 0 says
// the member is leaving on purpose. memberlist reports a graceful leave and
// a failure through the same NotifyLeave, with a Node whose State it does
// not update (v0.7.0), so a member announces its leave in its metadata
// first and the others tell the two apart by that. Bit 1 says the member
// reads batch frames on the data channel (msgBatch): a member without it
// gets every message in a datagram of its own.
type meta struct {
	boot      uint64
	capacity  uint32
	dataPort  uint16
	supernode netip.AddrPort
	leaving   bool
	batch     bool
}

const (
	metaLeaving = 1
	metaBatch   = 2
)

const metaVersion = 2

func (m meta) encode() []byte {
	b := []byte{metaVersion}
	b = binary.BigEndian.AppendUint64(b, m.boot)
	b = binary.BigEndian.AppendUint32(b, m.capacity)
	b = binary.BigEndian.AppendUint16(b, m.dataPort)
	b = appendAddr(b, m.supernode)
	var flags byte
	if m.leaving {
		flags |= metaLeaving
	}
	if m.batch {
		flags |= metaBatch
	}
	return append(b, flags)
}

func decodeMeta(b []byte) (meta, bool) {
	var m meta
	if len(b) < 15 || b[0] != metaVersion {
		return m, false
	}
	m.boot = binary.BigEndian.Uint64(b[1:])
	m.capacity = binary.BigEndian.Uint32(b[9:])
	m.dataPort = binary.BigEndian.Uint16(b[13:])
	rest, err := []byte(nil), error(nil)
	if m.supernode, rest, err = readAddr(b[15:]); err != nil {
		return m, false
	}
	if len(rest) > 0 {
		m.leaving = rest[0]&metaLeaving != 0
		m.batch = rest[0]&metaBatch != 0
	}
	return m, true
}

// Member is a live fleet member as this member sees it.
type Member struct {
	Name      string
	Gossip    netip.AddrPort // memberlist address
	Data      netip.AddrPort // data channel
	Supernode netip.AddrPort // where peers reach its supernode
	Capacity  uint32         // peers it can hold
	Boot      uint64         // random per process start
	Batch     bool           // reads batch frames (msgBatch)
}

// view is an immutable snapshot of the membership: the ring used for
// ownership plus what the data channel needs to reach each member.
type view struct {
	ring    *Ring
	members map[string]Member
}

// same reports whether a member is the same process in both views.
func sameBoot(a, b *view, name string) bool {
	x, okA := a.members[name]
	y, okB := b.members[name]
	return okA && okB && x.Boot == y.Boot
}

// equal reports whether two views have the same members, same boots.
func (v *view) equal(o *view) bool {
	if len(v.members) != len(o.members) {
		return false
	}
	for name := range v.members {
		if !sameBoot(v, o, name) {
			return false
		}
	}
	return true
}

func buildView(h Hasher, nodes []*memberlist.Node) *view {
	v := &view{members: make(map[string]Member, len(nodes))}
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		m, ok := decodeMeta(n.Meta)
		if !ok {
			continue // not a supernode fleet member we understand
		}
		ip, ok := netip.AddrFromSlice(n.Addr)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		v.members[n.Name] = Member{
			Name:      n.Name,
			Gossip:    netip.AddrPortFrom(ip, n.Port),
			Data:      netip.AddrPortFrom(ip, m.dataPort),
			Supernode: m.supernode,
			Capacity:  m.capacity,
			Boot:      m.boot,
			Batch:     m.batch,
		}
		names = append(names, n.Name)
	}
	v.ring = NewRing(h, names)
	return v
}

// delegate plugs the fleet into memberlist. The data path does not use
// memberlist's user messages: those share one queue (HandoffQueueDepth) and
// one goroutine with the suspect/dead gossip, so a burst of lookups could
// delay failure detection. They go over the data channel instead.
type delegate struct{ n *Node }

func (d delegate) NodeMeta(limit int) []byte {
	m := d.n.meta
	m.leaving = d.n.leaving.Load()
	b := m.encode()
	if len(b) > limit {
		return nil
	}
	return b
}
func (d delegate) NotifyMsg([]byte)                           {}
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d delegate) LocalState(join bool) []byte                { return nil }
func (d delegate) MergeRemoteState(buf []byte, join bool)     {}

// events turns memberlist's callbacks into view rebuilds; they run on
// memberlist's goroutines and must not block.
type events struct{ n *Node }

func (e events) NotifyJoin(node *memberlist.Node) {
	e.n.met.memberEvents.WithLabelValues("join").Inc()
	e.n.forgetFailed(node.Name)
	e.n.noteLeaving(node)
	e.n.viewDirty()
}

// noteLeaving remembers which members announced a graceful leave.
func (n *Node) noteLeaving(node *memberlist.Node) {
	if m, ok := decodeMeta(node.Meta); ok && m.leaving {
		n.leavers.Store(node.Name, true)
	} else {
		n.leavers.Delete(node.Name)
	}
}

func (e events) NotifyLeave(node *memberlist.Node) {
	_, left := e.n.leavers.LoadAndDelete(node.Name)
	if !left {
		if m, ok := decodeMeta(node.Meta); ok && m.leaving {
			left = true
		}
	}
	if !left {
		// Failed, not left: remember it so the rejoin loop keeps trying
		// (that is how a partition heals).
		e.n.met.memberEvents.WithLabelValues("fail").Inc()
		e.n.log.Warn("fleet member failed: it stopped answering and was declared dead; its peers re-register elsewhere", "member", node.Name, "addr", node.Address())
		e.n.rememberFailed(node.Name, net.JoinHostPort(node.Addr.String(), strconv.Itoa(int(node.Port))))
	} else {
		e.n.met.memberEvents.WithLabelValues("leave").Inc()
	}
	e.n.viewDirty()
}

func (e events) NotifyUpdate(node *memberlist.Node) {
	e.n.met.memberEvents.WithLabelValues("update").Inc()
	e.n.noteLeaving(node)
	e.n.viewDirty()
}

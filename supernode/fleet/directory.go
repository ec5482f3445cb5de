package fleet

import (
	"context"
	"crypto/rand"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// Directory is the fleet's directory.Store: pass it to the server as
// server.Config.Store. It keeps two tables:
//
//   - attached: the peers that talk to this member (H1's directory.Table).
//     It holds what must never leave the member that issued it (the session
//     key for keepalives, the replay stamp) and answers for these peers with
//     no hop at all;
//   - the fleet's replicas: every registration and refresh accepted here is
//     sent to the key's R owners (without the session key), so a lookup at
//     any member finds it, locally or one hop away.
//
// A Peer found through the fleet has Via != 0: a local number for the
// member that heard it, which Introduce maps back to that member.
type Directory struct {
	node     *Node
	attached *directory.Table

	viaMu    sync.Mutex
	viaByNum []string // viaByNum[i-1] is the member numbered i
	viaNum   map[string]uint16
}

// NewDirectory layers the fleet over attached, the member's own table.
func NewDirectory(node *Node, attached *directory.Table) *Directory {
	return &Directory{
		node:     node,
		attached: attached,
		viaNum:   make(map[string]uint16),
	}
}

var (
	_ directory.Store         = (*Directory)(nil)
	_ server.RemoteStore      = (*Directory)(nil)
	_ server.AsyncRemoteStore = (*Directory)(nil)
	_ server.Introducer       = (*Directory)(nil)
)

func entryOf(id directory.Key, p *directory.Peer, lease time.Duration) Entry {
	e := Entry{Key: Key(id), Reflexive: p.Reflexive, Lease: lease}
	n := min(int(p.NLocal), directory.MaxLocal, MaxLocal)
	if n > 0 {
		e.Local = append([]netip.AddrPort(nil), p.Local[:n]...)
	}
	return e
}

// Register implements directory.Store: the attached table checks replay and
// capacity first (its errors are the server's answer), then the entry is
// replicated to the owners.
func (d *Directory) Register(id directory.Key, p *directory.Peer, lease time.Duration) error {
	attached := *p
	attached.Via = 0
	if err := d.attached.Register(id, &attached, lease); err != nil {
		return err
	}
	d.node.Register(entryOf(id, p, lease)) // a full replica store is counted, not fatal
	return nil
}

// Refresh implements directory.Store: a keepalive heard here refreshes the
// attached entry and every replica (a replica not refreshed would expire
// while the peer is still online).
func (d *Directory) Refresh(id directory.Key, from netip.AddrPort, stamp uint64, via uint16, lease time.Duration) error {
	if err := d.attached.Refresh(id, from, stamp, 0, lease); err != nil {
		return err
	}
	var p directory.Peer
	if d.attached.Lookup(id, &p) {
		d.node.Register(entryOf(id, &p, lease))
	}
	return nil
}

// Lookup implements directory.Store: a peer attached here answers at once;
// otherwise the fleet answers from a local replica or one hop away. It may
// wait for the network: the server's packet path uses LookupLocal and
// LookupRemote (server.RemoteStore) instead.
func (d *Directory) Lookup(id directory.Key, p *directory.Peer) bool {
	if d.attached.Lookup(id, p) {
		return true
	}
	found, _ := d.LookupRemote(context.Background(), id, p)
	return found
}

// LookupLocal implements server.RemoteStore: the attached table, then a
// replica held here; remote = true when only other members can tell.
func (d *Directory) LookupLocal(id directory.Key, p *directory.Peer) (found, remote bool) {
	if d.attached.Lookup(id, p) {
		return true, false
	}
	e, ok, remote := d.node.LookupLocal(Key(id))
	if ok {
		d.fromEntry(&e, e.Local, p)
	}
	return ok, remote
}

// LookupRemote implements server.RemoteStore: the one-hop fleet lookup,
// bounded by Node.Lookup's hedge delays plus one fleet_lookup_timeout.
// When no owner can answer it returns a *server.UnavailableError.
func (d *Directory) LookupRemote(ctx context.Context, id directory.Key, p *directory.Peer) (bool, error) {
	var res lookupResult
	ok, err := d.node.lookup(ctx, Key(id), &res)
	if err != nil {
		retry := RetryAfter(err)
		if retry <= 0 {
			retry = time.Second // busy
		}
		return false, &server.UnavailableError{RetryAfter: retry}
	}
	if !ok {
		return false, nil
	}
	d.fromEntry(&res.e, res.candidates(), p)
	return true, nil
}

// LookupRemoteAsync implements server.AsyncRemoteStore: LookupRemote's
// lookup, whose outcome goes to done from the data channel's receive
// goroutine that got the owner's answer (or the timer that ended it).
func (d *Directory) LookupRemoteAsync(id directory.Key, done server.RemoteDone) {
	a := remoteDones.Get().(*remoteDone)
	a.d, a.done = d, done
	d.node.lookupAsync((*Key)(&id), a)
}

// remoteDone turns a fleet lookup's outcome into the server's (reused,
// remoteDones pool).
type remoteDone struct {
	d    *Directory
	done server.RemoteDone
	p    directory.Peer
}

var remoteDones = sync.Pool{New: func() any { return new(remoteDone) }}

func (a *remoteDone) lookupDone(res *lookupResult, found bool, err error, sb *server.SendBatch) {
	d, done := a.d, a.done
	switch {
	case err != nil:
		retry := RetryAfter(err)
		if retry <= 0 {
			retry = time.Second // busy
		}
		done.RemoteDone(false, nil, &server.UnavailableError{RetryAfter: retry}, sb)
	case found:
		d.fromEntry(&res.e, res.candidates(), &a.p)
		done.RemoteDone(true, &a.p, nil, sb)
	default:
		done.RemoteDone(false, nil, nil, sb)
	}
	*a = remoteDone{}
	remoteDones.Put(a)
}

// fromEntry turns a fleet entry into the server's Peer.
func (d *Directory) fromEntry(e *Entry, local []netip.AddrPort, p *directory.Peer) {
	// A peer found through the fleet has no session key here. Never hand
	// the server a zero key: a requester checked against it could forge
	// MESSAGE-INTEGRITY-SHA256. A random key and the largest stamp make any
	// authenticated request for it fail as a bad integrity or a replay.
	*p = directory.Peer{Reflexive: e.Reflexive, Expires: e.Expires(), Stamp: math.MaxUint64}
	rand.Read(p.Session[:])
	p.NLocal = uint8(copy(p.Local[:], local))
	if e.Via != d.node.name {
		p.Via = d.viaFor(e.Via)
	}
}

// Remove implements directory.Store (a peer's explicit leave).
func (d *Directory) Remove(id directory.Key) bool {
	ok := d.attached.Remove(id)
	d.node.Remove(Key(id))
	return ok
}

// Len implements directory.Store: the peers attached to this member.
func (d *Directory) Len() int { return d.attached.Len() }

// Expire reaps the attached table (the replicas expire by themselves); the
// server calls it as it would on a directory.Table.
func (d *Directory) Expire(now time.Time) int { return d.attached.Expire(now) }

// Expired is the attached table's lease-expiry count.
func (d *Directory) Expired() uint64 { return d.attached.Expired() }

// Introduce implements server.Introducer: it routes the server's unsealed
// introduce indication for target (a Peer that Lookup returned with
// Via != 0) to the member that heard the target, whose OnIntroduce
// (server.DeliverIntroduction) seals it with the target's session key and
// sends it from the address the target's NAT has a pinhole for.
func (d *Directory) Introduce(id directory.Key, target *directory.Peer, payload []byte) error {
	via := d.node.name
	if target.Via != 0 {
		d.viaMu.Lock()
		if int(target.Via) <= len(d.viaByNum) {
			via = d.viaByNum[target.Via-1]
		}
		d.viaMu.Unlock()
	}
	e := Entry{Key: Key(id), Reflexive: target.Reflexive, Via: via}
	return d.node.Introduce(&e, payload)
}

// Attached is the member's own table: the server should look the requester
// of a keepalive, leave or lookup up here (its session key is only here),
// so an unknown requester never costs a forwarded lookup.
func (d *Directory) Attached() directory.Store { return d.attached }

// viaFor numbers member names for Peer.Via (uint16). Names are few (one per
// member ever seen); past 65535 the numbering restarts, which at worst sends
// one introduction to a wrong member, which then has no pinhole and drops it.
func (d *Directory) viaFor(name string) uint16 {
	d.viaMu.Lock()
	defer d.viaMu.Unlock()
	if n, ok := d.viaNum[name]; ok {
		return n
	}
	if len(d.viaByNum) == 65535 {
		d.viaByNum, d.viaNum = nil, make(map[string]uint16)
	}
	d.viaByNum = append(d.viaByNum, name)
	n := uint16(len(d.viaByNum))
	d.viaNum[name] = n
	return n
}

// Package directory is the supernode's soft-state peer table: bounded,
// sharded, expiring without scans, and small per peer. The server talks to it
// through the Store interface so the fleet layer can substitute a sharded,
// replicated store.
package directory

import (
	"errors"
	"net/netip"
	"time"
)

// Key is a peer's identity (its Ed25519 public key).
type Key = [32]byte

// MaxLocal is the number of local candidates kept per peer (wire.MaxCandidates).
const MaxLocal = 4

// Errors a Store returns.
var (
	ErrFull     = errors.New("directory: full (max_peers reached)")
	ErrNotFound = errors.New("directory: peer not registered")
	ErrReplay   = errors.New("directory: stamp not newer than the last accepted one")
)

// Peer is what the directory knows about one peer.
type Peer struct {
	Reflexive netip.AddrPort           // address the supernode saw (server-reflexive)
	Local     [MaxLocal]netip.AddrPort // host candidates the peer announced
	NLocal    uint8
	Session   [16]byte // short-term key for MESSAGE-INTEGRITY-SHA256
	Stamp     uint64   // last accepted sender counter: replay guard
	// Via says which node last heard from the peer: 0 means this node; the
	// fleet layer uses other values for members that forwarded it.
	Via     uint16
	Expires time.Time // filled by Lookup
}

// Store is the directory contract.
type Store interface {
	// Register inserts or replaces id, with a lease. A new peer in a full
	// table gets ErrFull; a peer whose network (IPv4 /24, IPv6 /64 or /48)
	// is at its quota gets a QuotaError (errors.Is ErrQuota); a stamp not
	// above the stored one gets ErrReplay.
	Register(id Key, p *Peer, lease time.Duration) error
	// Refresh extends the lease of a registered peer heard from at "from"
	// with a newer stamp, via the given node.
	Refresh(id Key, from netip.AddrPort, stamp uint64, via uint16, lease time.Duration) error
	// Lookup copies the live entry for id into p.
	Lookup(id Key, p *Peer) bool
	// Remove deletes id; it reports whether it was present.
	Remove(id Key) bool
	// Len is the number of live entries.
	Len() int
}

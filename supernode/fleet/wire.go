package fleet

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// Data-channel messages. Every datagram is sealed with AES-256-GCM under a
// key derived from the fleet key (channel.go), so only members can write;
// inside, a message is:
//
//	type(1) senderLen(1) sender boot(8) seq(8) timestamp-ms(8) body
//
// boot is the sender's random boot id (gossiped in its metadata) and seq a
// counter of the sender's datagrams since that boot: a receiver accepts a
// datagram only from a member of its view with that boot, and each seq once
// (a sliding window, replay.go), so a captured datagram can be neither
// replayed nor replayed from an earlier boot. The timestamp still bounds
// what a receiver with an old view accepts to maxClockSkew; entries carry
// the time they were last heard, and a store keeps the newest.
const (
	msgPut        byte = 1 // body: count(1) entries
	msgDelete     byte = 2 // body: count(1) (key(32) heard-ms(8))...
	msgLookup     byte = 3 // body: reqID(8) key(32)
	msgLookupResp byte = 4 // body: reqID(8) found(1) [entry]
	msgIntroduce  byte = 5 // body: key(32) addr payloadLen(2) payload
	msgBatch      byte = 6 // body: (type(1) len(2) body)... of lookups, answers, introductions
)

// A batch frame carries several lookups, lookup answers and introductions
// to one member in one datagram: one seal, one header, one sequence number
// and one send instead of one per message (lane.go). It is authenticated as
// a whole by the datagram's AEAD and accepted or refused as a whole: the
// replay window sees its one sequence number, and a frame whose sub-frames
// do not exactly fill it is dropped before any of them is handled.
const (
	subHeader = 3 // type(1) len(2)
	// maxSubFrames bounds the messages one batch frame may carry (each
	// costs the receiver a rate-limit token).
	maxSubFrames = 64
)

// batchable reports whether a message type may travel in a batch frame.
func batchable(typ byte) bool {
	return typ == msgLookup || typ == msgLookupResp || typ == msgIntroduce
}

func appendSubFrame(b []byte, typ byte, body []byte) []byte {
	b = append(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// nextSubFrame splits the first sub-frame off b.
func nextSubFrame(b []byte) (typ byte, body, rest []byte, err error) {
	if len(b) < subHeader {
		return 0, nil, nil, errMalformed
	}
	size := int(binary.BigEndian.Uint16(b[1:]))
	if len(b) < subHeader+size {
		return 0, nil, nil, errMalformed
	}
	return b[0], b[subHeader : subHeader+size], b[subHeader+size:], nil
}

// checkBatch validates a batch body's structure without handling anything:
// every sub-frame is complete, of a batchable type, and there are 1 to
// maxSubFrames of them. It returns their count.
func checkBatch(b []byte) (int, error) {
	count := 0
	for len(b) > 0 {
		typ, _, rest, err := nextSubFrame(b)
		if err != nil || !batchable(typ) {
			return 0, errMalformed
		}
		count++
		if count > maxSubFrames {
			return 0, errMalformed
		}
		b = rest
	}
	if count == 0 {
		return 0, errMalformed
	}
	return count, nil
}

const (
	// maxDatagram is the largest data-channel datagram, sealed; it stays
	// under a 1500-byte Ethernet MTU with IPv6 and UDP headers.
	maxDatagram = 1400
	// sealOverhead is version(1) + GCM nonce(12) + tag(16).
	sealOverhead = 1 + 12 + 16
	maxPlain     = maxDatagram - sealOverhead
	// MaxLocal is the most local candidates an entry carries.
	MaxLocal = 4
	// MaxIntroduction is the largest introduction payload routed between
	// members.
	MaxIntroduction = 1024
	maxLease        = 10 * time.Minute
	maxClockSkew    = 30 * time.Second
	maxNameLen      = 64
)

var errMalformed = errors.New("malformed fleet message")

// Entry is one peer's directory record as the fleet replicates it.
type Entry struct {
	Key       Key
	Reflexive netip.AddrPort   // the address the supernode saw
	Local     []netip.AddrPort // the peer's own candidates, at most MaxLocal
	Heard     time.Time        // when a supernode last heard from the peer
	Lease     time.Duration    // valid until Heard+Lease
	Via       string           // the member that heard it (holds the pinhole)
}

// Expires is the end of the lease.
func (e *Entry) Expires() time.Time { return e.Heard.Add(e.Lease) }

func appendAddr(b []byte, a netip.AddrPort) []byte {
	switch {
	case !a.IsValid():
		return append(b, 0)
	case a.Addr().Is4():
		ip := a.Addr().As4()
		b = append(b, 4)
		b = append(b, ip[:]...)
	default:
		ip := a.Addr().As16()
		b = append(b, 6)
		b = append(b, ip[:]...)
	}
	return binary.BigEndian.AppendUint16(b, a.Port())
}

func readAddr(b []byte) (netip.AddrPort, []byte, error) {
	if len(b) < 1 {
		return netip.AddrPort{}, nil, errMalformed
	}
	var n int
	switch b[0] {
	case 0:
		return netip.AddrPort{}, b[1:], nil
	case 4:
		n = 4
	case 6:
		n = 16
	default:
		return netip.AddrPort{}, nil, errMalformed
	}
	if len(b) < 1+n+2 {
		return netip.AddrPort{}, nil, errMalformed
	}
	ip, _ := netip.AddrFromSlice(b[1 : 1+n])
	port := binary.BigEndian.Uint16(b[1+n:])
	return netip.AddrPortFrom(ip, port), b[3+n:], nil
}

func appendString(b []byte, s string) []byte {
	return append(append(b, byte(len(s))), s...)
}

func readString(b []byte, maxLen int) (string, []byte, error) {
	if len(b) < 1 || int(b[0]) > maxLen || len(b) < 1+int(b[0]) {
		return "", nil, errMalformed
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], nil
}

// entrySize is an upper bound of an entry's encoded size.
func entrySize(e *Entry) int {
	return 32 + 8 + 4 + 1 + len(e.Via) + 19 + 1 + len(e.Local)*19
}

func appendEntry(b []byte, e *Entry) []byte {
	b = append(b, e.Key[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Heard.UnixMilli()))
	b = binary.BigEndian.AppendUint32(b, uint32(e.Lease/time.Millisecond))
	b = appendString(b, e.Via)
	b = appendAddr(b, e.Reflexive)
	n := min(len(e.Local), MaxLocal)
	b = append(b, byte(n))
	for _, a := range e.Local[:n] {
		b = appendAddr(b, a)
	}
	return b
}

// readEntry decodes one entry and checks it is sane: a lease no longer than
// maxLease and a heard time not in the future beyond the clock skew.
func readEntry(b []byte, now time.Time) (Entry, []byte, error) {
	var e Entry
	var local [MaxLocal]netip.AddrPort
	n, rest, err := readEntryTo(b, now, &e, &local, nil)
	if err != nil {
		return e, nil, err
	}
	if n > 0 {
		e.Local = append([]netip.AddrPort(nil), local[:n]...)
	}
	return e, rest, nil
}

// readEntryTo decodes one entry into e without allocating: the local
// candidates go to local (e.Local stays nil; n says how many), and a Via
// naming a member of members shares that member's name string.
func readEntryTo(b []byte, now time.Time, e *Entry, local *[MaxLocal]netip.AddrPort, members map[string]Member) (int, []byte, error) {
	*e = Entry{}
	if len(b) < 32+8+4 {
		return 0, nil, errMalformed
	}
	copy(e.Key[:], b)
	e.Heard = time.UnixMilli(int64(binary.BigEndian.Uint64(b[32:])))
	e.Lease = time.Duration(binary.BigEndian.Uint32(b[40:])) * time.Millisecond
	b = b[44:]
	if e.Lease <= 0 || e.Lease > maxLease || e.Heard.After(now.Add(maxClockSkew)) {
		return 0, nil, errMalformed
	}
	if len(b) < 1 || int(b[0]) > maxNameLen || len(b) < 1+int(b[0]) {
		return 0, nil, errMalformed
	}
	via := b[1 : 1+int(b[0])]
	b = b[1+len(via):]
	if m, ok := members[string(via)]; ok { // no allocation to look up
		e.Via = m.Name
	} else {
		e.Via = string(via)
	}
	var err error
	if e.Reflexive, b, err = readAddr(b); err != nil {
		return 0, nil, err
	}
	if len(b) < 1 || b[0] > MaxLocal {
		return 0, nil, errMalformed
	}
	n := int(b[0])
	b = b[1:]
	for i := 0; i < n; i++ {
		if local[i], b, err = readAddr(b); err != nil {
			return 0, nil, err
		}
	}
	return n, b, nil
}

// header is the common prefix of every message.
type header struct {
	typ    byte
	name   []byte // the sender's name as sent (aliases the datagram)
	sender string // set by the receiver once name is found in its view
	boot   uint64
	seq    uint64
	sent   time.Time
}

func appendHeader(b []byte, typ byte, sender string, boot, seq uint64, now time.Time) []byte {
	b = append(b, typ)
	b = appendString(b, sender)
	b = binary.BigEndian.AppendUint64(b, boot)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint64(b, uint64(now.UnixMilli()))
}

// header starts a message from this member: its name and boot, the next
// sequence number.
func (n *Node) header(b []byte, typ byte, now time.Time) []byte {
	return appendHeader(b, typ, n.name, n.meta.boot, n.seq.Add(1), now)
}

func readHeader(b []byte) (header, []byte, error) {
	var h header
	if len(b) < 1 {
		return h, nil, errMalformed
	}
	h.typ = b[0]
	b = b[1:]
	if len(b) < 1 || int(b[0]) > maxNameLen || len(b) < 1+int(b[0]) {
		return h, nil, errMalformed
	}
	h.name, b = b[1:1+int(b[0])], b[1+int(b[0]):]
	if len(b) < 24 {
		return h, nil, errMalformed
	}
	h.boot = binary.BigEndian.Uint64(b)
	h.seq = binary.BigEndian.Uint64(b[8:])
	h.sent = time.UnixMilli(int64(binary.BigEndian.Uint64(b[16:])))
	return h, b[24:], nil
}

// headerSize bounds the header for a sender name.
func headerSize(sender string) int { return 1 + 1 + len(sender) + 24 }

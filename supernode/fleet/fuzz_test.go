package fleet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/server"
)

// offlineNode is a Node with a store, metrics and a data socket but no
// memberlist: enough to run the receive path on arbitrary input.
func offlineNode(t testing.TB) *Node {
	raw, _ := decodeKeys([]string{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
	sec, err := newSecrets(raw)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &Node{
		cfg:         DefaultConfig(),
		name:        "self",
		met:         newMetrics(nil),
		sec:         sec,
		hasher:      NewHasher(sec.seed),
		ch:          &channel{conn: conn, aeads: sec.data},
		st:          newStore(1000),
		lim:         newLimiter(1 << 30),
		pending:     map[uint64]*request{},
		onIntroduce: func(*server.SendBatch, Key, netip.AddrPort, []byte) {},
		replay:      newReplayWindow(),
	}
	n.view.Store(&view{ring: NewRing(n.hasher, []string{"self", "other"}), members: map[string]Member{
		"other": {Name: "other", Data: conn.LocalAddr().(*net.UDPAddr).AddrPort()},
	}})
	return n
}

// FuzzDataChannel feeds arbitrary bytes to the receive path twice: raw (as
// a stranger would send them: must fail to open) and sealed with the fleet
// key (as a buggy or hostile member would: every parser runs on it). Nothing
// may panic and nothing may be stored beyond the store's bound.
func FuzzDataChannel(f *testing.F) {
	now := time.Now()
	e := Entry{Key: Key{1}, Reflexive: netip.MustParseAddrPort("192.0.2.1:1"), Local: []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::1]:2")}, Heard: now, Lease: time.Minute, Via: "other"}
	put := appendHeader(nil, msgPut, "other", 0, 1, now)
	put = append(put, putLive, 1)
	f.Add(appendEntry(put, &e))
	del := appendHeader(nil, msgDelete, "other", 0, 1, now)
	f.Add(append(append(del, 1), make([]byte, 40)...))
	look := appendHeader(nil, msgLookup, "other", 0, 1, now)
	f.Add(append(look, make([]byte, 40)...))
	resp := appendHeader(nil, msgLookupResp, "other", 0, 1, now)
	f.Add(appendEntry(append(resp, 0, 0, 0, 0, 0, 0, 0, 1, 1), &e))
	intro := appendHeader(nil, msgIntroduce, "other", 0, 1, now)
	intro = appendAddr(append(intro, make([]byte, 32)...), e.Reflexive)
	f.Add(append(intro, 0, 3, 'a', 'b', 'c'))
	f.Add([]byte{})

	n := offlineNode(f)
	plain := make([]byte, maxDatagram)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	seq := uint64(1)
	f.Fuzz(func(t *testing.T, msg []byte) {
		n.handle(msg, plain, from)
		// Keep the timestamp fresh so the parsers behind the replay check
		// run whatever the corpus's age.
		// and a fresh sequence number so the replay window lets it in.
		if _, body, err := readHeader(msg); err == nil {
			at := len(msg) - len(body) - 8
			msg = append([]byte(nil), msg...)
			seq++
			binary.BigEndian.PutUint64(msg[at-8:], seq)
			binary.BigEndian.PutUint64(msg[at:], uint64(time.Now().UnixMilli()))
		}
		if len(msg) <= maxPlain {
			n.handle(n.ch.seal(nil, msg), plain, from)
		}
		if n.st.len() > 1000 {
			t.Fatalf("store grew past its bound: %d", n.st.len())
		}
	})
}

// FuzzBatchFrame feeds arbitrary batch bodies, sealed with the fleet key
// and fresh, to the receive path (a buggy or hostile member): checkBatch
// must refuse what does not split exactly into batchable sub-frames, and
// nothing may panic whatever the sub-frames hold. A frame checkBatch
// accepts is split again here and must give back the same bytes.
func FuzzBatchFrame(f *testing.F) {
	now := time.Now()
	e := Entry{Key: Key{1}, Reflexive: netip.MustParseAddrPort("192.0.2.1:1"), Local: []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::1]:2")}, Heard: now, Lease: time.Minute, Via: "other"}
	look := make([]byte, 40)
	look[7] = 1
	resp := appendEntry(append(make([]byte, 8), 1), &e)
	intro := appendAddr(make([]byte, 32), e.Reflexive)
	intro = append(intro, 0, 3, 'a', 'b', 'c')
	f.Add(appendSubFrame(nil, msgLookup, look))
	f.Add(appendSubFrame(appendSubFrame(nil, msgLookup, look), msgLookupResp, resp))
	f.Add(appendSubFrame(appendSubFrame(nil, msgIntroduce, intro), msgLookupResp, []byte{0, 0, 0, 0, 0, 0, 0, 2, 0}))
	f.Add(appendSubFrame(nil, msgLookupResp, resp)[:20])                       // truncated
	f.Add([]byte{msgLookup, 0xff, 0xff})                                       // length past the end
	f.Add(appendSubFrame(nil, msgBatch, appendSubFrame(nil, msgLookup, look))) // nested
	f.Add([]byte{})

	n := offlineNode(f)
	plain := make([]byte, maxDatagram)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	seq := uint64(0)
	f.Fuzz(func(t *testing.T, body []byte) {
		if count, err := checkBatch(body); err == nil {
			var again []byte
			for b := body; len(b) > 0; count-- {
				typ, sub, rest, err := nextSubFrame(b)
				if err != nil || !batchable(typ) {
					t.Fatalf("checkBatch accepted a frame that does not split: %v", err)
				}
				again = appendSubFrame(again, typ, sub)
				b = rest
			}
			if count != 0 || string(again) != string(body) {
				t.Fatalf("split and joined again: %x, was %x", again, body)
			}
		}
		seq++
		msg := append(appendHeader(nil, msgBatch, "other", 0, seq, time.Now()), body...)
		if len(msg) <= maxPlain {
			n.handle(n.ch.seal(nil, msg), plain, from)
		}
		if n.st.len() > 1000 {
			t.Fatalf("store grew past its bound: %d", n.st.len())
		}
	})
}

// FuzzMeta: gossip metadata from other members never panics the decoder,
// and what encodes decodes back.
func FuzzMeta(f *testing.F) {
	f.Add(meta{boot: 1, capacity: 2, dataPort: 3, supernode: netip.MustParseAddrPort("192.0.2.1:3478")}.encode())
	f.Add([]byte{metaVersion})
	f.Add(meta{boot: 1, supernode: netip.MustParseAddrPort("[2001:db8::1]:3478"), leaving: true}.encode())
	f.Add(meta{boot: 2, supernode: netip.MustParseAddrPort("192.0.2.1:3478"), batch: true}.encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := decodeMeta(b)
		if !ok {
			return
		}
		again, ok := decodeMeta(m.encode())
		if !ok || again != m {
			t.Fatalf("meta round trip: %+v -> %+v", m, again)
		}
	})
}

// TestMetaLeavingFlag: the leaving flag round-trips, and metadata from a
// member that predates it (no flags byte) reads as not leaving.
func TestMetaLeavingFlag(t *testing.T) {
	m := meta{boot: 7, capacity: 9, dataPort: 7947, supernode: netip.MustParseAddrPort("192.0.2.1:3478"), leaving: true}
	b := m.encode()
	if got, ok := decodeMeta(b); !ok || got != m {
		t.Fatalf("round trip: %+v -> %+v", m, got)
	}
	old := b[:len(b)-1]
	if got, ok := decodeMeta(old); !ok || got.leaving || got.boot != 7 {
		t.Fatalf("metadata without flags: %+v ok=%v", got, ok)
	}
}

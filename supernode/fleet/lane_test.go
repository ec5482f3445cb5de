package fleet

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/supernode/directory"
	"github.com/supernode-appliance/appliance/supernode/server"
)

// laneTo gives n a lane to member "other" whose datagrams arrive at the
// returned socket, and makes "other" (boot 0) a member of n's view.
func laneTo(t testing.TB, n *Node, batch bool) (*lane, *net.UDPConn) {
	t.Helper()
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	m := Member{Name: "other", Data: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Batch: batch}
	n.view.Store(&view{ring: NewRing(n.hasher, []string{"self", "other"}), members: map[string]Member{"other": m}})
	ob := newOutbox(n, m)
	n.outboxes.Store(&map[string]*outbox{"other": ob})
	return ob.lane, sink
}

// readPlain reads one datagram from sink and opens it with n's keys.
func readPlain(t testing.TB, n *Node, sink *net.UDPConn) []byte {
	t.Helper()
	pkt := make([]byte, maxDatagram+1)
	sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	sz, _, err := sink.ReadFromUDPAddrPort(pkt)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := n.ch.open(make([]byte, maxDatagram), pkt[:sz])
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// TestLaneBatches: messages queued on a lane while its goroutine is busy
// leave together, in as few batch frames as fit, each one sealed datagram
// with one sequence number; a member that does not read batch frames gets
// one datagram per message in the single-message format.
func TestLaneBatches(t *testing.T) {
	n := offlineNode(t)
	l, sink := laneTo(t, n, true)
	const lookups = 100 // 43 bytes each: more than one datagram's worth
	for i := 0; i < lookups; i++ {
		var body [40]byte
		binary.BigEndian.PutUint64(body[:], uint64(i))
		if !l.add(msgLookup, body[:]) {
			t.Fatal("lane refused a message")
		}
	}
	l.mu.Lock()
	q := append([]byte(nil), l.q...)
	l.q = l.q[:0]
	l.mu.Unlock()
	l.flush(q, nil, nil)
	got, datagrams := 0, 0
	for got < lookups {
		h, body, err := readHeader(readPlain(t, n, sink))
		if err != nil || h.typ != msgBatch {
			t.Fatalf("datagram %d: type %d, err %v; want a batch frame", datagrams, h.typ, err)
		}
		count, err := checkBatch(body)
		if err != nil {
			t.Fatal(err)
		}
		for b := body; len(b) > 0; {
			typ, sub, rest, _ := nextSubFrame(b)
			if typ != msgLookup || len(sub) != 40 || binary.BigEndian.Uint64(sub) != uint64(got) {
				t.Fatalf("message %d: type %d, %d bytes, id %d", got, typ, len(sub), binary.BigEndian.Uint64(sub))
			}
			got++
			b = rest
		}
		datagrams++
		if count > maxSubFrames {
			t.Fatalf("%d messages in one frame", count)
		}
	}
	// 1,371 plaintext bytes, minus a 30-byte header, hold 31 lookups.
	if datagrams != 4 {
		t.Fatalf("%d lookups left in %d datagrams, want 4", lookups, datagrams)
	}
	if m, d := value(n.met.laneMessages), value(n.met.laneDatagrams); m != lookups || d != 4 {
		t.Fatalf("lane counters: %v messages, %v datagrams", m, d)
	}

	// A member without the batch flag: one message per datagram.
	l, sink = laneTo(t, n, false)
	for i := 0; i < 3; i++ {
		l.add(msgLookup, make([]byte, 40))
	}
	q = append([]byte(nil), l.q...)
	l.q = l.q[:0]
	l.flush(q, nil, nil)
	for i := 0; i < 3; i++ {
		h, body, err := readHeader(readPlain(t, n, sink))
		if err != nil || h.typ != msgLookup || len(body) != 40 {
			t.Fatalf("datagram %d to a member without batches: type %d, %d bytes, %v", i, h.typ, len(body), err)
		}
	}
}

// TestLaneQueueBounded: a lane whose goroutine does not keep up refuses
// messages beyond laneQueue instead of growing.
func TestLaneQueueBounded(t *testing.T) {
	n := offlineNode(t)
	l, _ := laneTo(t, n, true)
	accepted := 0
	for i := 0; i < 2*laneQueue/43; i++ {
		if l.add(msgLookup, make([]byte, 40)) {
			accepted++
		}
	}
	if accepted*43 > laneQueue || accepted < laneQueue/43-1 {
		t.Fatalf("accepted %d lookups (%d bytes) in a %d-byte queue", accepted, accepted*43, laneQueue)
	}
}

// batchFrame builds a batch frame from "other" with sequence number seq.
func batchFrame(seq uint64, subs ...[]byte) []byte {
	b := appendHeader(nil, msgBatch, "other", 0, seq, time.Now())
	for _, s := range subs {
		b = append(b, s...)
	}
	return b
}

func lookupSub(id uint64, k Key) []byte {
	var body [40]byte
	binary.BigEndian.PutUint64(body[:], id)
	copy(body[8:], k[:])
	return appendSubFrame(nil, msgLookup, body[:])
}

// TestBatchFrameHostile: a batch frame is authenticated, replay-checked
// and validated as a whole. A truncated, forged, replayed or malformed
// frame is counted and dropped, and none of its messages is handled.
func TestBatchFrameHostile(t *testing.T) {
	n := offlineNode(t)
	l, sink := laneTo(t, n, true)
	e := peer(1)
	e.Heard, e.Via = time.Now(), "other"
	n.st.put(&e)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	plain := make([]byte, maxDatagram)
	served := func() float64 { return value(n.met.forwardedServed) }
	dropped := func(reason string) float64 { return value(n.met.dropped.WithLabelValues(reason)) }
	flushLane := func() {
		l.mu.Lock()
		q := append([]byte(nil), l.q...)
		l.q = l.q[:0]
		l.mu.Unlock()
		l.flush(q, nil, nil)
	}

	good := n.ch.seal(nil, batchFrame(1, lookupSub(7, e.Key), lookupSub(8, Key{9})))
	n.handle(good, plain, from)
	if served() != 2 {
		t.Fatalf("a good frame of 2 lookups: %v served", served())
	}
	flushLane()
	h, body, err := readHeader(readPlain(t, n, sink))
	if err != nil || h.typ != msgBatch {
		t.Fatalf("the answers: type %d, %v", h.typ, err)
	}
	// Both answers in one frame: found for 7, not found for 8.
	typ, a, rest, _ := nextSubFrame(body)
	if typ != msgLookupResp || binary.BigEndian.Uint64(a) != 7 || a[8] != 1 {
		t.Fatalf("first answer: type %d %x", typ, a[:9])
	}
	if typ, a, _, _ = nextSubFrame(rest); typ != msgLookupResp || binary.BigEndian.Uint64(a) != 8 || a[8] != 0 {
		t.Fatalf("second answer: type %d %x", typ, a)
	}

	cases := []struct {
		name, reason string
		pkt          []byte
	}{
		{"replayed", dropReplay, good},
		{"truncated", dropDecrypt, good[:len(good)-1]},
		{"forged", dropDecrypt, func() []byte { b := append([]byte(nil), good...); b[len(b)/2] ^= 1; return b }()},
		{"too short", dropShort, good[:sealOverhead-1]},
		{"empty batch", dropMalformed, n.ch.seal(nil, batchFrame(2))},
		{"cut sub-frame", dropMalformed, n.ch.seal(nil, batchFrame(3, lookupSub(1, e.Key), lookupSub(2, e.Key)[:20]))},
		{"length past the end", dropMalformed, n.ch.seal(nil, batchFrame(4, lookupSub(1, e.Key), []byte{msgLookup, 0xff, 0xff, 1}))},
		{"nested batch", dropMalformed, n.ch.seal(nil, batchFrame(5, lookupSub(1, e.Key), appendSubFrame(nil, msgBatch, lookupSub(2, e.Key))))},
		{"replication in a batch", dropMalformed, n.ch.seal(nil, batchFrame(6, lookupSub(1, e.Key), appendSubFrame(nil, msgPut, []byte{0, 0})))},
		{"too many messages", dropMalformed, func() []byte {
			var subs [][]byte
			for i := 0; i <= maxSubFrames; i++ {
				subs = append(subs, appendSubFrame(nil, msgLookupResp, []byte{0}))
			}
			return n.ch.seal(nil, batchFrame(7, subs...))
		}()},
	}
	for _, c := range cases {
		before, s := dropped(c.reason), served()
		n.handle(c.pkt, plain, from)
		if dropped(c.reason) != before+1 {
			t.Errorf("%s: not counted as %s", c.name, c.reason)
		}
		if served() != s {
			t.Errorf("%s: %v lookups served from a dropped frame", c.name, served()-s)
		}
	}
	// A well-formed frame with a malformed message inside: that message
	// is counted, the others are handled.
	before, s := dropped(dropMalformed), served()
	n.handle(n.ch.seal(nil, batchFrame(8, lookupSub(1, e.Key), appendSubFrame(nil, msgLookup, []byte{1, 2, 3}))), plain, from)
	if dropped(dropMalformed) != before+1 || served() != s+1 {
		t.Errorf("a bad lookup in a good frame: %v malformed, %v served", dropped(dropMalformed)-before, served()-s)
	}
	// Each message of a frame takes a token of the sender's rate.
	n.lim = newLimiter(3)
	before, s = dropped(dropRate), served()
	n.handle(n.ch.seal(nil, batchFrame(9, lookupSub(1, e.Key), lookupSub(2, e.Key), lookupSub(3, e.Key), lookupSub(4, e.Key))), plain, from)
	if dropped(dropRate) != before+1 || served() != s {
		t.Errorf("4 messages over a budget of 3: %v rate drops, %v served", dropped(dropRate)-before, served()-s)
	}
}

// TestForwardNoAllocs: the forwarded lookup's encode and decode on both
// ends allocate nothing: queueing the question on the lane, the owner
// opening a frame of questions and queueing the answers, and the asker
// opening the answers and handing them to the waiting lookup.
func TestForwardNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	n := offlineNode(t)
	l, _ := laneTo(t, n, true)
	e := peer(1)
	e.Heard, e.Via = time.Now(), "other"
	n.st.put(&e)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	plain := make([]byte, maxDatagram)
	drain := func() {
		l.mu.Lock()
		l.q = l.q[:0]
		l.mu.Unlock()
	}
	frame := batchFrame(1, lookupSub(7, e.Key), lookupSub(8, e.Key), lookupSub(9, Key{9}))
	seqAt := 1 + 1 + len("other") + 8
	var answers []byte
	for _, id := range []uint64{7, 8} {
		var body [512]byte
		binary.BigEndian.PutUint64(body[:], id)
		a := appendEntry(append(body[:8], 1), &e)
		answers = appendSubFrame(answers, msgLookupResp, a)
	}
	answerFrame := batchFrame(1, answers)
	var done doneSink
	dir := NewDirectory(n, directory.New(directory.Config{MaxPeers: 10, MaxLease: time.Minute}))
	sealed := make([]byte, 0, maxDatagram)
	seq := uint64(1)
	var key Key
	cases := []struct {
		name string
		f    func()
	}{
		{"question queued", func() {
			var body [40]byte
			binary.BigEndian.PutUint64(body[:], 7)
			copy(body[8:], key[:])
			l.add(msgLookup, body[:])
			drain()
		}},
		{"owner: frame of 3 questions in, answers queued", func() {
			seq++
			binary.BigEndian.PutUint64(frame[seqAt:], seq)
			sealed = n.ch.seal(sealed[:0], frame)
			n.handle(sealed, plain, from)
			drain()
		}},
		{"asker: lookup started (question queued), frame of 2 answers in, completed", func() {
			n.reqID.Store(6) // the answers are for request 7
			if id := n.lookupAsync(&Key{9}, &done); id != 7 {
				t.Fatalf("request %d, want 7", id)
			}
			drain()
			seq++
			binary.BigEndian.PutUint64(answerFrame[seqAt:], seq)
			sealed = n.ch.seal(sealed[:0], answerFrame)
			n.handle(sealed, plain, from)
			if !done.found || done.calls != 1 {
				t.Fatalf("lookup completed %d times, found %v", done.calls, done.found)
			}
			done = doneSink{}
		}},
		{"lane flush (seal and send)", func() {
			l.add(msgLookup, make([]byte, 40))
			l.mu.Lock()
			q := l.q
			l.mu.Unlock()
			plain, sealed = l.flush(q, plain[:0], sealed[:0])
			drain()
		}},
		{"synchronous lookup (Directory.LookupRemote), answered from the replica", func() {
			var p directory.Peer
			if found, err := dir.LookupRemote(context.Background(), directory.Key(e.Key), &p); !found || err != nil {
				t.Fatalf("found %v, %v", found, err)
			}
		}},
	}
	for _, c := range cases {
		c.f() // warm the pools and buffers
		if a := testing.AllocsPerRun(200, c.f); a != 0 {
			t.Errorf("%s: %v allocations per run", c.name, a)
		}
	}
	// The owner's case really answered: 3 questions a run, 202 runs.
	if got := value(n.met.forwardedServed); got != 3*202 {
		t.Fatalf("%v lookups served, want %d", got, 3*202)
	}
}

// doneSink counts the completions of lookupAsync.
type doneSink struct {
	calls int
	found bool
	err   error
}

func (d *doneSink) lookupDone(res *lookupResult, found bool, err error, _ *server.SendBatch) {
	d.calls++
	d.found, d.err = found, err
}

package fleet

import (
	"net"
	"testing"
	"time"
)

// TestDataChannelRefusesReplays (issue #11 item 3): an authentic datagram
// captured on the wire and sent again is dropped as a replay, as is one
// from an earlier boot of its sender; a lookup is answered at the asking
// member's data address, never at a forged source.
func TestDataChannelRefusesReplays(t *testing.T) {
	members := startFleet(t, 2, newKey(t))
	a, b := members[0], members[1]
	e := peer(1)
	e.Heard, e.Via = time.Now(), a.Name()
	put := a.header(nil, msgPut, time.Now())
	put = appendEntry(append(put, putLive, 1), &e)
	sealed := a.ch.seal(nil, put)
	spoofer, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer spoofer.Close()
	to := net.UDPAddrFromAddrPort(b.DataAddr())
	spoofer.WriteToUDP(sealed, to) // the original, from anywhere: accepted once
	waitFor(t, 2*time.Second, "the put stored", func() bool { return b.Holds(e.Key) })
	spoofer.WriteToUDP(sealed, to) // the same bytes again
	waitFor(t, 2*time.Second, "a replay drop", func() bool { return value(b.met.dropped.WithLabelValues(dropReplay)) == 1 })

	// A datagram of an earlier boot of a (sealed with the fleet key, with a
	// sequence number never used) is not from the member in the view.
	old := appendHeader(nil, msgDelete, a.Name(), a.meta.boot^1, 1<<40, time.Now())
	old = append(old, 0)
	before := value(b.met.dropped.WithLabelValues(dropNotMember))
	spoofer.WriteToUDP(a.ch.seal(nil, old), to)
	waitFor(t, 2*time.Second, "the old boot dropped", func() bool { return value(b.met.dropped.WithLabelValues(dropNotMember)) == before+1 })

	// A fresh lookup sent from a forged source: b answers a's data socket.
	look := a.header(nil, msgLookup, time.Now())
	look = append(look, make([]byte, 8)...)
	look = append(look, e.Key[:]...)
	served := value(b.met.forwardedServed)
	spoofer.WriteToUDP(a.ch.seal(nil, look), to)
	waitFor(t, 2*time.Second, "the lookup served", func() bool { return value(b.met.forwardedServed) == served+1 })
	spoofer.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _, err := spoofer.ReadFromUDP(make([]byte, 2048)); err == nil {
		t.Fatalf("the lookup's answer (%d bytes) went to the datagram's forged source", n)
	}
}

func TestSeqWindow(t *testing.T) {
	r := newReplayWindow()
	for _, c := range []struct {
		boot, seq uint64
		ok        bool
	}{
		{1, 0, false}, {1, 1, true}, {1, 1, false}, {1, 3, true}, {1, 2, true}, {1, 2, false},
		{1, 10000, true}, {1, 10000 - windowSize, false}, {1, 10000 - windowSize + 1, true},
		{2, 1, true}, // a new boot starts a new window
	} {
		if got := r.accept("m", c.boot, c.seq); got != c.ok {
			t.Errorf("accept(boot %d, seq %d) = %v, want %v", c.boot, c.seq, got, c.ok)
		}
	}
}

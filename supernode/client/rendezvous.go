package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// EchoPrefix is what Listen puts before a datagram it echoes.
const EchoPrefix = "echo:"

// punchInterval paces hole punching: fast enough that both NATs open within
// a round trip or two, slow enough to be polite (RFC 8445 section 14.2 paces
// ICE checks at 50 ms; we probe several candidates per round).
const punchInterval = 100 * time.Millisecond

// Listen serves introductions and peer traffic until ctx ends, writing the
// CLI's data lines to out:
//
//	introduced <hex> from=<ip:port>   (and punches towards its candidates)
//	received <ip:port> <text>         (and answers "echo:<text>" to the sender)
//
// Each introduction is answered with one bounded burst of punches
// (punchIntroduction); an introduction of a peer whose burst is still
// running is reported but not punched again, so repeated lookups cannot
// multiply our traffic.
func (c *Client) Listen(ctx context.Context, out io.Writer) {
	punching := map[wire.PeerID]bool{}
	finished := make(chan wire.PeerID)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-finished:
			delete(punching, id)
		case in := <-c.Introductions():
			fmt.Fprintf(out, "introduced %s from=%s\n", hex.EncodeToString(in.Peer[:]), in.Reflexive)
			if punching[in.Peer] {
				continue
			}
			punching[in.Peer] = true
			go func() {
				c.punchIntroduced(ctx, in, out) // punchreport.go
				select {
				case finished <- in.Peer:
				case <-ctx.Done():
				}
			}()
		case d := <-c.Datagrams():
			text := string(d.Data)
			if strings.HasPrefix(text, EchoPrefix) {
				continue // never echo an echo: two listeners would loop
			}
			fmt.Fprintf(out, "received %s %s\n", d.From, oneLine(text))
			c.Send(d.From, append([]byte(EchoPrefix), d.Data...))
		}
	}
}

// PunchResult is the first direct answer from a peer.
type PunchResult struct {
	From  netip.AddrPort
	Reply string
}

// PunchAndSend punches towards the peer's candidates and sends message to
// each of them every round, until an echo arrives directly from the peer (not
// via the supernode: the client only delivers datagrams from other
// addresses) or ctx ends.
func (c *Client) PunchAndSend(ctx context.Context, p *Peer, message string) (*PunchResult, error) {
	cands, start := p.Candidates(), time.Now()
	t := time.NewTicker(punchInterval)
	defer t.Stop()
	targets := punchTargets(c.server, cands)
	for {
		c.probe(p.ID, targets) // prflx.go
		for _, a := range c.withPeerReflexive(p.ID, targets) {
			c.sendBudgeted(a, []byte(message))
		}
		select {
		case <-ctx.Done():
			return nil, c.punchError(p.ID, p.Reflexive, p.Local, time.Since(start))
		case d := <-c.Datagrams():
			if text := string(d.Data); strings.HasPrefix(text, EchoPrefix) {
				return &PunchResult{From: d.From, Reply: oneLine(text)}, nil
			}
		case <-t.C:
		}
	}
}

// oneLine keeps a peer's text from breaking the one-record-per-line output.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

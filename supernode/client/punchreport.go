package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/supernode-appliance/appliance/supernode/wire"
)

// punchIntroduced is the listener's side of an introduction: rounds of
// probes at listenerRound(i), the bounded schedule of punch.go and then one
// round a second, until PunchWindow (the puncher's default window) has
// passed, longer (up to 3 windows) while the peer's authenticated probes
// keep arriving, or until a path is adopted. Host candidates, which the
// peer only claims, get the first hostRounds rounds; the reflexive address,
// which the supernode proved, all of them (at most 21 probes per window).
// It then writes one record to out:
//
//	direct <hex> <ip:port>          (a path to the peer answered our probe)
//	failed <hex> <explanation>      (no path: candidates, NAT behaviour, what to change)
//
// out must accept concurrent writes (os.Stdout does).
func (c *Client) punchIntroduced(ctx context.Context, in Introduction, out io.Writer) {
	p := c.track(in.Peer)
	if p == nil {
		c.punchIntroduction(ctx, in.Reflexive, in.Local)
		return
	}
	all := punchTargets(c.server, append([]netip.AddrPort{in.Reflexive}, in.Local...))
	start := time.Now()
	for i := 0; ; i++ {
		if wait := time.Until(start.Add(listenerRound(i))); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.validated:
			case <-time.After(wait):
			}
		}
		select {
		case <-p.validated:
			r := c.Path(in.Peer)
			writeRecord(out, fmt.Sprintf("direct %s %s\n", hex.EncodeToString(in.Peer[:]), r.Valid[0]))
			return
		default:
		}
		c.paths.mu.Lock()
		heardAt := p.heardAt
		c.paths.mu.Unlock()
		now := time.Now()
		if now.Sub(start) >= PunchWindow && (now.Sub(heardAt) > time.Second || now.Sub(start) >= 3*PunchWindow) {
			break
		}
		if i < hostRounds {
			c.probe(in.Peer, all)
		} else if len(all) > 0 && all[0] == in.Reflexive {
			c.probe(in.Peer, all[:1])
		}
	}
	e := c.punchError(in.Peer, in.Reflexive, in.Local, time.Since(start))
	writeRecord(out, fmt.Sprintf("failed %s %s\n", hex.EncodeToString(in.Peer[:]), e.Error()))
}

// listenerRound is when the listener's round i goes out: punchSchedule
// (0, 0.1, 0.3, 0.7, 1.5 s: most paths open within a few round trips), then
// one a second to the end of the window, which still covers a puncher that
// starts late, a lossy path and port prediction (it starts from a round
// after 1 s).
func listenerRound(i int) time.Duration {
	if i < len(punchSchedule) {
		return punchSchedule[i]
	}
	return punchSchedule[len(punchSchedule)-1] + time.Duration(i-len(punchSchedule)+1)*time.Second
}

var recordMu sync.Mutex

func writeRecord(out io.Writer, s string) {
	recordMu.Lock()
	defer recordMu.Unlock()
	io.WriteString(out, s)
}

// PunchError is a failed punch, explained: which candidates were tried,
// what each side's NAT seems to do, and what would help.
type PunchError struct {
	Peer       wire.PeerID
	Candidates []netip.AddrPort
	After      time.Duration
	Path       PathReport
	Ours       NATGuess
	Theirs     NATGuess
	PortMap    string // what our port mapping came to ("" if not asked)
	Advice     string
}

// Is makes errors.Is(err, ErrTimeout) hold, as before PunchError existed.
func (e *PunchError) Is(target error) bool { return target == ErrTimeout }

func (e *PunchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "no direct path to the peer after %s: %d probes to its candidates %s", e.After.Round(100*time.Millisecond), e.Path.Sent, joinAddrs(e.Candidates))
	if len(e.Path.Heard) > 0 {
		fmt.Fprintf(&b, "; heard its probes from %s but it never answered ours", joinAddrs(e.Path.Heard))
	} else {
		b.WriteString("; no probe of the peer reached us")
	}
	switch pr := e.Path.Prediction; {
	case strings.Contains(pr, "not tried"):
		fmt.Fprintf(&b, "; %s", pr)
	case pr != "":
		fmt.Fprintf(&b, "; %s, no match", pr)
	}
	fmt.Fprintf(&b, "; our side: %s; the peer's side: %s", e.Ours, e.Theirs)
	if e.PortMap != "" {
		fmt.Fprintf(&b, "; %s", e.PortMap)
	}
	fmt.Fprintf(&b, ". %s", e.Advice)
	return b.String()
}

func joinAddrs(as []netip.AddrPort) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// NATGuess is one side's NAT as seen from its candidates. With one
// supernode address the mapping behaviour cannot be measured (that needs
// two server addresses, RFC 5780 section 4.3), so the port is the clue: NATs
// with endpoint-independent mapping usually keep the inside port, those that
// map per destination (address-and-port-dependent) pick new ones. A peer
// seen from a second port proves per-destination mapping.
type NATGuess struct {
	Mapped  netip.AddrPort
	Local   []netip.AddrPort
	NoNAT   bool
	PerDest bool // port changed (guess) or second mapping seen (Proved)
	Proved  bool
}

func guessNAT(mapped netip.AddrPort, local []netip.AddrPort) NATGuess {
	g := NATGuess{Mapped: mapped, Local: local}
	if !mapped.IsValid() {
		return g
	}
	if slices.Contains(local, mapped) {
		g.NoNAT = true
		return g
	}
	g.PerDest = !slices.ContainsFunc(local, func(a netip.AddrPort) bool { return a.Port() == mapped.Port() })
	return g
}

func (g NATGuess) String() string {
	switch {
	case !g.Mapped.IsValid():
		return "mapping unknown"
	case g.NoNAT:
		return fmt.Sprintf("no NAT (%s)", g.Mapped)
	case g.Proved:
		return fmt.Sprintf("NAT with address-and-port-dependent mapping (seen as %s by the supernode and from another port by the peer)", g.Mapped)
	case g.PerDest:
		return fmt.Sprintf("NAT that changes ports (mapped %s for %s), probably address-and-port-dependent mapping", g.Mapped, joinAddrs(g.Local))
	}
	return fmt.Sprintf("NAT that keeps ports (mapped %s), probably endpoint-independent mapping", g.Mapped)
}

// punchError explains a failed punch to peer id, whose reflexive and host
// candidates the supernode gave us.
func (c *Client) punchError(id wire.PeerID, reflexive netip.AddrPort, local []netip.AddrPort, after time.Duration) *PunchError {
	e := &PunchError{
		Peer: id, Candidates: append([]netip.AddrPort{reflexive}, local...), After: after, Path: c.Path(id),
		Ours: guessNAT(c.Mapped(), c.hostCandidates()), Theirs: guessNAT(reflexive, local),
		PortMap: c.portMapNote(),
	}
	// Evidence beats guesses: the peer reached us from a port the
	// supernode did not see, or saw us at one it did not.
	for _, h := range e.Path.Heard {
		if h.Addr() == reflexive.Addr() && h.Port() != reflexive.Port() {
			e.Theirs.PerDest, e.Theirs.Proved = true, true
		}
	}
	if s := e.Path.SeenAs; s.IsValid() && e.Ours.Mapped.IsValid() && s.Addr() == e.Ours.Mapped.Addr() && s != e.Ours.Mapped {
		e.Ours.PerDest, e.Ours.Proved = true, true
	}
	const remedy = "enable port mapping (PCP/NAT-PMP/UPnP) or forward a UDP port on one of the routers, or use a relay of your own (the supernode never relays)"
	switch {
	case e.Ours.PerDest && e.Theirs.PerDest:
		e.Advice = "Both peers are behind NATs that map per destination (address-and-port-dependent): neither can learn the other's port without prediction; " + remedy + "."
	case e.Ours.PerDest || e.Theirs.PerDest:
		side := "our NAT maps"
		if e.Theirs.PerDest {
			side = "the peer's NAT maps"
		}
		e.Advice = "One side's NAT maps per destination (" + side + ") and the other NAT filters datagrams it did not ask for (address-and-port-dependent filtering), so the port to open is unknown; " + remedy + "."
	default:
		e.Advice = "Both NATs keep ports, yet nothing got through: a firewall on the way probably drops UDP between the peers; allow it, or " + remedy + "."
	}
	return e
}

package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/supernode-appliance/appliance/supernode/stun"
)

// NAT behaviours (RFC 4787 section 4, as RFC 5780 sections 4.3 and 4.4
// measure them).
const (
	BehaviourNone                    = "none" // no NAT: the mapped address is our own
	BehaviourEndpointIndependent     = "endpoint-independent"
	BehaviourAddressDependent        = "address-dependent"
	BehaviourAddressAndPortDependent = "address-and-port-dependent"
)

// ErrNoSecondAddress: the server answered without OTHER-ADDRESS (or
// refused CHANGE-REQUEST), so it has one address and cannot tell mapping
// and filtering behaviour apart.
var ErrNoSecondAddress = errors.New("the server has no second address (no OTHER-ADDRESS in its answer); discovery needs a second address: on a supernode set alternate_address")

// NATBehaviour is the result of RFC 5780 NAT behaviour discovery.
type NATBehaviour struct {
	Server    netip.AddrPort `json:"server"`
	Other     netip.AddrPort `json:"other_address"` // the server's OTHER-ADDRESS
	Local     netip.AddrPort `json:"local"`         // the mapping test's socket
	Mapped    netip.AddrPort `json:"mapped"`        // as the server's primary address saw it
	NAT       bool           `json:"nat"`
	Mapping   string         `json:"mapping"`   // a Behaviour* constant
	Filtering string         `json:"filtering"` // a Behaviour* constant
	// Dropped counts answers with our transaction ID that were malformed
	// (an address attribute that does not decode, a wrong class) and were
	// ignored.
	Dropped int `json:"dropped_answers"`
}

// DiscoveryRequestSize is how large every discovery request is made
// (PADDING): the server answers with OTHER-ADDRESS, RESPONSE-ORIGIN, or
// from a changed address, only when the answer is no larger than the
// request (IPv6 answers are 100 bytes with FINGERPRINT).
const DiscoveryRequestSize = 128

// DiscoverNAT runs RFC 5780's mapping (4.3) and filtering (4.4) tests
// against server, from bind (IP or IP:PORT; "" = the address the route to
// the server uses). wait is how long one test waits for an answer,
// retransmitting (a test whose answer is filtered takes that long). On an
// error the result so far (Dropped among it) comes with it.
func DiscoverNAT(ctx context.Context, server netip.AddrPort, bind string, wait time.Duration) (*NATBehaviour, error) {
	server = unmap(server)
	local, err := localFor(server, bind)
	if err != nil {
		return nil, err
	}
	r := &NATBehaviour{Server: server}
	// Mapping: one socket, to the primary, to A2:P1, to A2:P2.
	p, err := newProber(local, wait, &r.Dropped)
	if err != nil {
		return r, err
	}
	defer p.close()
	r.Local = p.local()
	a1, err := p.probe(ctx, server, false, false)
	if err != nil {
		return r, fmt.Errorf("test I (Binding to %s): %w", server, err)
	}
	if !a1.other.IsValid() {
		return r, ErrNoSecondAddress
	}
	o := a1.other
	if o.Addr().Is4() != server.Addr().Is4() || o.Addr() == server.Addr() || o.Port() == server.Port() || o.Port() == 0 || o.Addr().IsUnspecified() {
		return r, fmt.Errorf("the server's OTHER-ADDRESS %s does not differ from %s in both address and port; it is misconfigured", o, server)
	}
	r.Other, r.Mapped = o, a1.mapped
	r.NAT = a1.mapped != r.Local
	if !r.NAT {
		r.Mapping = BehaviourNone
	} else {
		a2, err := p.probe(ctx, netip.AddrPortFrom(o.Addr(), server.Port()), false, false)
		if err != nil {
			return r, fmt.Errorf("mapping test II (Binding to %s): %w", netip.AddrPortFrom(o.Addr(), server.Port()), err)
		}
		if a2.mapped == a1.mapped {
			r.Mapping = BehaviourEndpointIndependent
		} else {
			a3, err := p.probe(ctx, o, false, false)
			if err != nil {
				return r, fmt.Errorf("mapping test III (Binding to %s): %w", o, err)
			}
			if a3.mapped == a2.mapped {
				r.Mapping = BehaviourAddressDependent
			} else {
				r.Mapping = BehaviourAddressAndPortDependent
			}
		}
	}
	// Filtering: a fresh socket, so no pinhole towards A2 exists yet.
	f, err := newProber(netip.AddrPortFrom(local.Addr(), 0), wait, &r.Dropped)
	if err != nil {
		return r, err
	}
	defer f.close()
	if _, err := f.probe(ctx, server, false, false); err != nil {
		return r, fmt.Errorf("filtering test I (Binding to %s): %w", server, err)
	}
	_, err = f.probe(ctx, server, true, true)
	switch {
	case err == nil:
		r.Filtering = BehaviourEndpointIndependent
	case !errors.Is(err, ErrTimeout):
		return r, fmt.Errorf("filtering test II (change IP and port): %w", err)
	default:
		_, err := f.probe(ctx, server, false, true)
		switch {
		case err == nil:
			r.Filtering = BehaviourAddressDependent
		case errors.Is(err, ErrTimeout):
			r.Filtering = BehaviourAddressAndPortDependent
		default:
			return r, fmt.Errorf("filtering test III (change port): %w", err)
		}
	}
	return r, ctx.Err()
}

// localFor is the address to bind: bind if given, else the source address
// the kernel picks for server, any port.
func localFor(server netip.AddrPort, bind string) (netip.AddrPort, error) {
	if bind != "" {
		ap, err := netip.ParseAddrPort(bind)
		if a, aerr := netip.ParseAddr(bind); err != nil && aerr == nil {
			ap, err = netip.AddrPortFrom(a, 0), nil
		}
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("-bind %q is not IP or IP:PORT (for example 10.0.0.2, or [fd00::2]:40000)", bind)
		}
		if !ap.Addr().IsValid() || ap.Addr().IsUnspecified() {
			return netip.AddrPort{}, fmt.Errorf("-bind %q must name an address of this host: comparing it with the mapped address tells whether there is a NAT", bind)
		}
		return unmap(ap), nil
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("no route to %s: %v", server, err)
	}
	defer c.Close()
	return netip.AddrPortFrom(unmap(c.LocalAddr().(*net.UDPAddr).AddrPort()).Addr(), 0), nil
}

// prober sends discovery requests on one unconnected socket, so answers
// from any of the server's addresses arrive.
type prober struct {
	conn    *net.UDPConn
	wait    time.Duration
	dropped *int
	buf     []byte
}

type answer struct {
	from, mapped, other, origin netip.AddrPort
}

func newProber(local netip.AddrPort, wait time.Duration, dropped *int) (*prober, error) {
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(local))
	if err != nil {
		return nil, fmt.Errorf("cannot open a UDP socket on %s: %v", local, err)
	}
	return &prober{conn: c, wait: wait, dropped: dropped, buf: make([]byte, 2048)}, nil
}

func (p *prober) local() netip.AddrPort { return unmap(p.conn.LocalAddr().(*net.UDPAddr).AddrPort()) }
func (p *prober) close()                { p.conn.Close() }

// probe sends a padded Binding request to "to" (with CHANGE-REQUEST if a
// flag is set), retransmitting after 100, 200, 400... ms (RFC 8489
// section 6.2.1, shortened) until an answer or p.wait. ErrTimeout: no
// answer. With a change flag the answer must come from another address
// than "to": one from "to" means the server ignored the request.
func (p *prober) probe(ctx context.Context, to netip.AddrPort, changeIP, changePort bool) (answer, error) {
	id := stun.NewTransactionID()
	m := stun.New()
	m.Build(stun.BindingRequest, stun.MagicCookie, id)
	n := DiscoveryRequestSize - stun.HeaderSize - 4 - 8 // PADDING header, FINGERPRINT
	if changeIP || changePort {
		m.AddChangeRequest(changeIP, changePort)
		n -= 8
	}
	m.AddPadding(n)
	m.AddFingerprint()
	end := time.Now().Add(p.wait)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	rto := 100 * time.Millisecond
	for {
		if _, err := p.conn.WriteToUDPAddrPort(m.Raw, to); err != nil {
			return answer{}, err
		}
		next := time.Now().Add(rto)
		if next.After(end) {
			next = end
		}
		rto *= 2
		for {
			p.conn.SetReadDeadline(next)
			k, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
			if err != nil {
				if errors.Is(err, ctx.Err()) || ctx.Err() != nil {
					return answer{}, ctx.Err()
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return answer{}, err
			}
			a, ours, err := p.parse(p.buf[:k], id)
			if !ours {
				continue // another transaction's late answer, or noise
			}
			if err != nil {
				if e, isErr := err.(*ErrorResponse); isErr {
					if (changeIP || changePort) && e.Code == stun.CodeUnknownAttribute {
						return answer{}, ErrNoSecondAddress
					}
					return answer{}, err
				}
				*p.dropped++
				continue
			}
			a.from = unmap(from)
			if (changeIP || changePort) && a.from == unmap(to) {
				return answer{}, fmt.Errorf("the server at %s answered a CHANGE-REQUEST from the same address; it does not support RFC 5780", to)
			}
			return a, nil
		}
		if !time.Now().Before(end) {
			return answer{}, ErrTimeout
		}
	}
}

// parse decodes an answer to transaction id. ours is false for anything
// else; err is set for a malformed answer (to be counted and dropped) or an
// error response (*ErrorResponse).
func (p *prober) parse(b []byte, id [stun.TransactionIDSize]byte) (a answer, ours bool, err error) {
	r := stun.New()
	if r.Decode(b) != nil || r.Cookie != stun.MagicCookie || r.TransactionID != id || r.Type.Method != stun.MethodBinding {
		return a, false, nil
	}
	if r.Find(stun.AttrFingerprint) >= 0 && r.CheckFingerprint() != nil {
		return a, true, stun.ErrFingerprint
	}
	switch r.Type.Class {
	case stun.ClassError:
		v, _ := r.Get(stun.AttrErrorCode)
		code, reason, err := stun.ParseErrorCode(v)
		if err != nil {
			return a, true, err
		}
		return a, true, &ErrorResponse{Code: code, Reason: string(reason)}
	case stun.ClassSuccess:
	default:
		return a, true, stun.ErrBadAttribute
	}
	v, ok := r.Get(stun.AttrXORMappedAddress)
	if !ok {
		return a, true, stun.ErrAttrNotFound
	}
	if a.mapped, err = r.XORAddress(v); err != nil {
		return a, true, err
	}
	a.mapped = unmap(a.mapped)
	for _, at := range []struct {
		t   stun.AttrType
		dst *netip.AddrPort
	}{{stun.AttrOtherAddress, &a.other}, {stun.AttrResponseOrigin, &a.origin}} {
		if v, ok := r.Get(at.t); ok {
			if *at.dst, err = r.MappedAddress(v); err != nil {
				return a, true, err
			}
			*at.dst = unmap(*at.dst)
		}
	}
	return a, true, nil
}

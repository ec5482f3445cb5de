package wire

import (
	"net/netip"
	"testing"
)

func TestCheckCandidate(t *testing.T) {
	public := netip.MustParseAddr("198.51.100.4")
	loop := netip.MustParseAddr("127.0.0.1")
	cases := []struct {
		cand string
		seen netip.Addr
		want CandidateFault
	}{
		{"192.168.1.20:5000", public, CandidateOK}, // RFC 1918: same-site punching needs it
		{"10.0.0.2:5000", public, CandidateOK},
		{"172.16.5.5:5000", public, CandidateOK},
		{"100.64.1.2:5000", public, CandidateOK}, // RFC 6598 shared space
		{"[fd00::2]:5000", public, CandidateOK},  // RFC 4193 ULA
		{"[2001:db8::2]:5000", public, CandidateOK},
		{"203.0.113.9:443", public, CandidateOK},
		{"203.0.113.9:0", public, CandidatePortZero},
		{"0.0.0.0:5000", public, CandidateUnspecified},
		{"[::]:5000", public, CandidateUnspecified},
		{"127.0.0.1:22", public, CandidateLoopback},
		{"127.8.9.10:22", public, CandidateLoopback},
		{"[::1]:22", public, CandidateLoopback},
		{"[::ffff:127.0.0.1]:22", public, CandidateLoopback},
		{"127.0.0.1:4000", loop, CandidateOK}, // peer on the supernode's own host
		{"169.254.169.254:80", public, CandidateLinkLocal},
		{"169.254.1.1:5000", public, CandidateLinkLocal},
		{"[fe80::1]:5000", public, CandidateLinkLocal},
		{"224.0.0.251:5353", public, CandidateMulticast},
		{"239.255.255.250:1900", public, CandidateMulticast},
		{"[ff02::1]:5000", public, CandidateMulticast},
		{"255.255.255.255:5000", public, CandidateBroadcast},
		{"[::ffff:255.255.255.255]:5000", public, CandidateBroadcast},
		{"0.1.2.3:5000", public, CandidateReserved},
		{"240.0.0.1:5000", public, CandidateReserved},
	}
	for _, c := range cases {
		if got := CheckCandidate(netip.MustParseAddrPort(c.cand), c.seen); got != c.want {
			t.Errorf("CheckCandidate(%s, seen %s) = %s, want %s", c.cand, c.seen, got, c.want)
		}
	}
}

func TestFilterCandidates(t *testing.T) {
	var c Candidates
	for _, s := range []string{"255.255.255.255:9", "10.0.0.2:5000", "[::ffff:10.0.0.2]:5000", "169.254.169.254:80"} {
		c.Addr[c.N] = netip.MustParseAddrPort(s)
		c.N++
	}
	var rejected []CandidateFault
	FilterCandidates(&c, netip.MustParseAddr("198.51.100.4"), func(f CandidateFault) { rejected = append(rejected, f) })
	if c.N != 1 || c.Addr[0] != netip.MustParseAddrPort("10.0.0.2:5000") || c.Addr[1].IsValid() {
		t.Fatalf("kept %v", c.Addr[:c.N])
	}
	if len(rejected) != 2 || rejected[0] != CandidateBroadcast || rejected[1] != CandidateLinkLocal {
		t.Fatalf("rejected %v", rejected)
	}
}

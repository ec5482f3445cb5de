//go:build ignore

// xdp_filter: the appliance's first line of defence. It runs on every uplink
// in the driver, before the kernel allocates an skb, and decides per packet:
// pass, or drop and count the reason.
//
// The checks run cheapest first: header parsing and sanity (no map access),
// then port policy and the STUN header check (array lookups, which the
// verifier inlines), then the per-source state (one inlined array lookup:
// token buckets and, for a known source, its cached verdict from the source
// lists) and,
// for a new source or a stale verdict, the source lists and the dynamic
// blocklist (one LPM lookup). A flood of garbage therefore dies before it
// costs a helper call. Every packet ends in exactly one reason counter,
// passes included, so the counters add up to the traffic seen.
//
// Layouts shared with Go (enum reason, struct counter, struct settings, ...)
// are defined here once and mirrored into Go by bpf2go -type.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

// enum reason lists every outcome. PASS_* come first: a reason passes iff it
// is below REASON_TX_BINDING, the one reason answered with XDP_TX; a reason
// drops iff it is REASON_DROP_TRUNCATED or above. Go derives names, verdicts and metric labels
// from this enum (BTF), so adding a reason here is the only edit needed.
enum reason {
	REASON_PASS_SERVICE = 0, // to a served port, every check passed
	REASON_PASS_REPLY,       // reply to the appliance's own outbound traffic
	REASON_PASS_CONTROL,     // DHCP replies, NDP, MLD: link plumbing
	REASON_PASS_ICMP,        // ICMP errors (PMTUD) and echo
	REASON_PASS_ARP,         // ARP
	REASON_PASS_FRAGMENT,    // non-first fragment, fragment policy allows it
	REASON_TX_BINDING,       // Binding request answered in the driver (XDP_TX)
	REASON_DROP_TRUNCATED,   // frame ends inside a header
	REASON_DROP_ETHERTYPE,   // neither IPv4, IPv6 nor ARP
	REASON_DROP_VLAN,        // more than two VLAN tags
	REASON_DROP_IP_HEADER,   // bad version, IHL < 5, length inconsistent with frame
	REASON_DROP_IP_OPTIONS,  // IPv4 options present (RFC 7126)
	REASON_DROP_TTL,         // TTL / hop limit 0
	REASON_DROP_IPV6_EXT,    // extension-header chain too long, RH0, misplaced HBH
	REASON_DROP_FRAGMENT,    // fragment to a service port, or non-first fragment
	REASON_DROP_PROTOCOL,    // transport protocol the appliance does not speak
	REASON_DROP_LAND,        // source address == destination address
	REASON_DROP_TCP_FLAGS,   // NULL, Xmas, SYN+FIN, SYN+RST, FIN without ACK
	REASON_DROP_TCP_HEADER,  // data offset < 5 or beyond the segment
	REASON_DROP_UDP_LENGTH,  // UDP length inconsistent with the IP payload
	REASON_DROP_PORT_ZERO,   // source or destination port 0
	REASON_DROP_PORT_CLOSED, // not a served port and not a reply (default deny)
	REASON_DROP_REFLECTION,  // from a reflector source port to a service port
	REASON_DROP_STUN,        // malformed STUN header on a STUN port
	REASON_DROP_ICMP_TYPE,   // ICMP type not needed (redirect, timestamp, bad NDP)
	REASON_DROP_OWN_SOURCE,  // source is one of the appliance's own addresses
	REASON_DROP_BOGON,       // special-purpose source (RFC 6890)
	REASON_DROP_BLOCKED,     // static blocklist
	REASON_DROP_DYNAMIC,     // dynamic blocklist (controller, supernode reports)
	REASON_DROP_RATE_SYN,    // per-source budget for new TCP connections spent
	REASON_DROP_RATE_UDP,    // per-source UDP budget spent
	REASON_DROP_RATE_ICMP,   // per-source ICMP budget spent
};
#define NUM_REASONS (REASON_DROP_RATE_ICMP + 1)

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NUM_REASONS);
	__type(key, enum reason);
	__type(value, struct counter);
} counters SEC(".maps");

// Token bucket parameters, precomputed by Go so the program never divides by
// a rate: a token every ns_per_token, a full bucket after fill_ns. A zero
// ns_per_token switches the bucket off.
struct bucket_param {
	__u64 ns_per_token;
	__u64 fill_ns;
	__u32 burst;
	__u32 _pad;
};

enum setting_flag {
	SETTING_DROP_SERVICE_FRAGMENTS = 1,
	SETTING_BINDING_FAST_PATH = 2, // answer Binding requests in the driver
};

enum rate_class {
	RATE_SYN = 0,
	RATE_UDP,
	RATE_ICMP,
	NUM_RATE_CLASSES,
};

struct settings {
	enum setting_flag flags;
	__u16 ephemeral_first; // the appliance's ip_local_port_range
	__u16 ephemeral_last;
	__u16 stun_method_first; // custom STUN methods accepted besides Binding
	__u16 stun_method_last;
	__u32 _pad;
	struct bucket_param rate[NUM_RATE_CLASSES];
	struct bucket_param track; // new per-source entries (per CPU)
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct settings);
} config SEC(".maps");

// Per-port policy, indexed by port number. One array serves both the
// destination lookup (served?) and the source lookup (reflector?).
enum port_flag {
	PORT_UDP = 1,       // the appliance serves this UDP port
	PORT_TCP = 2,       // the appliance serves this TCP port
	PORT_STUN = 4,      // STUN header check on this UDP port
	PORT_REFLECTOR = 8, // well-known amplification source port
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, enum port_flag);
} ports SEC(".maps");

// Source lists. Go merges the bogon ranges, the allow and block lists, the
// own addresses and the dynamic blocks into one trie per family and stores,
// for every prefix, the action that holds for all addresses it covers; one
// lookup answers all five.
enum acl_action {
	ACL_NONE = 0,
	ACL_ALLOW,
	ACL_BLOCK,
	ACL_BOGON,
	ACL_OWN,
};

struct lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

// A dynamic block (fed at run time by the controller and the supernode's
// abuse reports) is a host prefix whose entry carries an expiry in
// CLOCK_MONOTONIC nanoseconds (the coarse clock, see now_ns; the precise
// bpf_ktime_get_boot_ns costs ~30 ns here); until then the source is
// dropped, afterwards the entry's action (what the static lists say about the
// address) applies again and the program deletes the entry: a block ends by
// itself even if the controller is gone. Static entries have expiry 0.
struct acl_entry {
	enum acl_action action;
	__u32 is_static; // also a static lists' prefix: keep it after the block
	__u64 expiry;
};

#define ACL_MAX_ENTRIES (16384 + 65536) // static lists + dynamic blocks

// An IPv6 dynamic block covers the source's /64 (Go: filter.Block6Bits),
// an IPv4 one the address.
#define BLOCK6_PREFIXLEN 64

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ACL_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm4_key);
	__type(value, struct acl_entry);
} acl4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ACL_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm6_key);
	__type(value, struct acl_entry);
} acl6 SEC(".maps");

// A source as the token buckets see it is one 64-bit word (struct
// source_slot's key, in memory order): an IPv6 /64, or an IPv4 address as
// ffff:ffff:a.b.c.d, a /64 in the multicast range. A multicast source only
// gets this far in the rare packets that accept bogon sources (ICMPv6
// errors, DHCPv6 replies) and would then share the budget of that IPv4
// address, which spoofing the IPv4 address itself does just as well (the
// cached verdict is not shared: its tag names the family).

struct bucket {
	__u64 stamp;
	__u64 tokens;
};

// A source's state: its token buckets and, so that a known source costs
// one array lookup instead of that and the LPM lookup, the source lists'
// verdict for it, tagged with the generation of the tries it was
// read from (acl_gen). A verdict from an older generation, or a dynamic
// block that has run out, sends the packet to the trie again, which
// refreshes the cache.
//
// The verdict is one 64-bit word, stored and loaded in one instruction, so
// two CPUs refreshing the same source can never leave one's action under
// the other's generation: low 32 bits of the generation << 32 | a 24-bit
// address tag << 8 | the action. The address tag is a 23-bit hash of the
// IPv4 address, or of the IPv6 interface identifier, and a family bit.
// Verdicts are per address but IPv6 buckets per /64, hence the hash: it
// names the address of the /64 the verdict is for. A collision can only
// lend one address of a /64 the verdict of another, which a sender owning
// the /64 gets anyway by using that address. For IPv4 the hash guards the
// moment a slot changes hands (see source_slot).
struct source_state {
	struct bucket b[NUM_RATE_CLASSES];
	__u64 verdict; // generation << 32 | address hash << 8 | action
	__u64 expiry;  // end of the dynamic block when the action is ACL_DYNAMIC
};

// Per-source token buckets, keyed by /32 (IPv4) or /64 (IPv6, one subscriber
// usually owns a whole /64), in a direct-mapped table: slot = Fibonacci hash
// of the key. An array lookup is inlined by the verifier into a few
// instructions, where a hash map's lookup cost ~30 ns a packet here, as much
// as all the rest of the legitimate path together.
//
// A source whose slot holds another source takes it over only if the
// occupant has nothing to lose (see evictable): every one of its buckets
// has refilled to its burst, which is where a new entry starts anyway. A
// source that is being limited is never pushed out; the newcomer then
// passes untracked, like a source beyond the admission budget. So
// collisions can make a budget generous, never reset one. With 2^17 slots
// and a few thousand active sources, collisions are rare (see README).
//
// Updates are not atomic; two CPUs racing on one source may each spend the
// same token, which only makes the limit slightly generous. A slot that
// changes hands is written verdict-first (cleared), then key, then state, so
// a reader that sees the new key never sees the old source's verdict; the
// verdict's address tag (source_state) guards that too.
struct source_slot {
	__u64 key; // 0: empty
	struct source_state st;
};

#define SOURCE_SLOT_BITS 17

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << SOURCE_SLOT_BITS);
	__type(key, __u32);
	__type(value, struct source_slot);
} sources SEC(".maps");

// The generation of the source tries. Go increments it after every change
// to the tries (Configure, Block, Unblock), the program reads it before it
// looks a source up in a trie: a verdict cached under generation g was read
// from tries at least as new as g, so it stays valid while acl_gen == g.
// Only the low 32 bits are kept with a verdict: a cached verdict is stale
// after 2^32 changes at the latest, and every packet of its source in
// between would have refreshed it.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} acl_gen SEC(".maps");

// The admission budget for new entries in sources. Under a spoofed
// random-source flood every packet is a new source; writing each one would
// push idle real sources out and cost a 72-byte write per packet. Once this
// budget is spent, unknown sources are passed untracked (a source seen once
// cannot exceed a per-source budget anyway), so the cost per packet stays
// one missed lookup.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bucket);
} track_budget SEC(".maps");

// The clock. bpf_ktime_get_coarse_ns is a helper call (~15 ns here) but
// its value only moves once per tick, when jiffies does, and bpf_jiffies64
// is inlined by the verifier into one load. Each CPU keeps the coarse
// reading it took at its last jiffy and calls the helper again only when
// jiffies has moved on: at most one packet per tick and CPU pays for the
// call. The reading may be taken just before the timekeeper catches up with
// the new jiffy, so it can lag by two ticks instead of one (8 ms at
// HZ=250): a block may last that much longer, a bucket refills that much
// later.
struct clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock);
} clock SEC(".maps");

static __always_inline __u64 now_ns(void)
{
	__u32 zero = 0;
	struct clock *c = bpf_map_lookup_elem(&clock, &zero);
	if (!c)
		return bpf_ktime_get_coarse_ns(); // unreachable: array index 0
	__u64 j = bpf_jiffies64();
	if (c->jiffies != j || !c->ns) {
		c->jiffies = j;
		c->ns = bpf_ktime_get_coarse_ns();
	}
	return c->ns;
}

// bound16 makes the verifier see that a byte-swapped 16-bit field is below
// 65536. The verifier of the appliance's kernel (trixie's 6.12) forgets a
// register's bounds after a byte swap (BPF_END), then refuses to add it to
// a packet pointer; newer kernels keep them. The empty asm hides the value
// from the compiler so the mask is not optimised away. tests/kernel loads
// the program on the appliance's own kernel to keep this true.
static __always_inline __u64 bound16(__u64 v)
{
	asm volatile("%0 &= 0xffff" : "+r"(v));
	return v;
}

#define ETH_P_8021AD_ 0x88A8
#define MAX_VLAN_TAGS 2
#define MAX_IPV6_EXT 6
#define STUN_MAGIC_COOKIE 0x2112A442 // RFC 8489 section 5

#define FRAG_NONE 0
#define FRAG_FIRST 1
#define FRAG_LATER 2

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

// What the parser learned about a packet; the policy stages read it.
struct pkt {
	void *end;          // end of the frame
	void *l3;           // IP header
	void *l4;           // transport header
	__u32 l4_len;       // bytes from l4 to the end of the IP payload
	__u8 proto;         // transport protocol
	__u8 frag;          // FRAG_*
	__u8 v6;            // IPv6?
	__u8 hop_limit;     // TTL or hop limit
	__u32 saddr4;       // IPv4 source
	struct in6_addr *saddr6; // IPv6 source
};

static __always_inline int is_pass(enum reason r) { return r < REASON_TX_BINDING; }

// account counts the packet under r with the length it arrived with (an
// answered request counts its own bytes, not its answer's) and returns the
// verdict.
static __always_inline int account(__u64 len, enum reason r)
{
	struct counter *c = bpf_map_lookup_elem(&counters, &r);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
	if (r == REASON_TX_BINDING)
		return XDP_TX;
	return is_pass(r) ? XDP_PASS : XDP_DROP;
}

// parse_ipv4 checks the IPv4 header. IP options are dropped: RFC 7126 finds
// no option that a host on the Internet needs to accept, and several (source
// routing, record route) are attack tools; a header of exactly 20 bytes also
// keeps the transport header at a fixed offset.
static __always_inline int parse_ipv4(struct pkt *p, void *l3)
{
	struct iphdr *iph = l3;
	p->l3 = l3;
	if ((void *)(iph + 1) > p->end)
		return REASON_DROP_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return REASON_DROP_IP_HEADER;
	if (iph->ihl != 5)
		return REASON_DROP_IP_OPTIONS;
	__u32 tot = bound16(bpf_ntohs(iph->tot_len));
	// The frame may be longer (Ethernet padding), never shorter.
	if (tot < sizeof(*iph) || l3 + tot > p->end)
		return REASON_DROP_IP_HEADER;
	if (iph->ttl == 0)
		return REASON_DROP_TTL;
	if (iph->saddr == iph->daddr)
		return REASON_DROP_LAND;
	__u16 frag = bpf_ntohs(iph->frag_off);
	if (frag & 0x8000) // the reserved ("evil") bit, RFC 791
		return REASON_DROP_IP_HEADER;
	if (frag & 0x1fff)
		p->frag = FRAG_LATER;
	else if (frag & 0x2000)
		p->frag = FRAG_FIRST;
	p->proto = iph->protocol;
	p->hop_limit = iph->ttl;
	p->saddr4 = iph->saddr;
	p->l4 = iph + 1;
	p->l4_len = tot - sizeof(*iph);
	return -1;
}

// parse_ipv6 checks the IPv6 header and walks at most MAX_IPV6_EXT extension
// headers, so a Fragment or Routing header cannot hide the transport header
// (RFC 7112: the first fragment must carry the whole header chain).
static __always_inline int parse_ipv6(struct pkt *p, void *l3)
{
	struct ipv6hdr *ip6 = l3;
	p->l3 = l3;
	if ((void *)(ip6 + 1) > p->end)
		return REASON_DROP_TRUNCATED;
	if (ip6->version != 6)
		return REASON_DROP_IP_HEADER;
	__u32 plen = bound16(bpf_ntohs(ip6->payload_len));
	// payload_len 0 announces a jumbogram (RFC 2675): no uplink carries one.
	void *ip_end = (void *)(ip6 + 1) + plen;
	if (plen == 0 || ip_end > p->end)
		return REASON_DROP_IP_HEADER;
	if (ip6->hop_limit == 0)
		return REASON_DROP_TTL;
	__u64 *s = (__u64 *)&ip6->saddr, *d = (__u64 *)&ip6->daddr;
	if (s[0] == d[0] && s[1] == d[1])
		return REASON_DROP_LAND;
	p->v6 = 1;
	p->hop_limit = ip6->hop_limit;
	p->saddr6 = &ip6->saddr;

	__u8 nh = ip6->nexthdr;
	__u8 *h = (__u8 *)(ip6 + 1);
#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING &&
		    nh != IPPROTO_FRAGMENT)
			break;
		if ((void *)(h + 8) > p->end)
			return REASON_DROP_TRUNCATED;
		if ((void *)(h + 8) > ip_end)
			return REASON_DROP_IP_HEADER;
		__u8 next = h[0];
		__u32 len = ((__u32)h[1] + 1) * 8;
		if (nh == IPPROTO_HOPOPTS && i != 0) // RFC 8200 4.1: only first
			return REASON_DROP_IPV6_EXT;
		if (nh == IPPROTO_ROUTING) {
			// RH0 is deprecated (RFC 5095); any routing header that
			// still has segments to visit asks us to forward.
			if (h[2] == 0 || h[3] != 0)
				return REASON_DROP_IPV6_EXT;
		}
		if (nh == IPPROTO_FRAGMENT) {
			__u16 off = bpf_ntohs(*(__be16 *)(h + 2));
			len = 8;
			if (off & 0xfff8) {
				p->frag = FRAG_LATER;
				p->proto = next;
				p->l4 = h + 8;
				p->l4_len = 0;
				return -1;
			}
			// An atomic fragment (offset 0, M=0) is a whole
			// packet (RFC 6946).
			if (off & 1)
				p->frag = FRAG_FIRST;
		}
		nh = next;
		h += len;
	}
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_DSTOPTS || nh == IPPROTO_ROUTING ||
	    nh == IPPROTO_FRAGMENT)
		return REASON_DROP_IPV6_EXT;
	if ((void *)h > ip_end)
		return REASON_DROP_IP_HEADER;
	p->proto = nh;
	p->l4 = h;
	p->l4_len = ip_end - (void *)h;
	return -1;
}

// stun_ok checks what a STUN server can check without state (RFC 8489 6):
// the two top bits of the type are zero, the length matches the UDP payload
// and is a multiple of 4, and the method is one the supernode speaks. A
// message without the magic cookie is the classic RFC 3489 form, where only a
// Binding request (0x0001) makes sense to a server.
static __always_inline int stun_ok(struct pkt *p, struct udphdr *udp, __u32 payload,
				   struct settings *cfg)
{
	__u8 *m = (__u8 *)(udp + 1);
	if (payload < 20 || (void *)(m + 8) > p->end)
		return 0;
	__u16 type = bpf_ntohs(*(__be16 *)m);
	__u16 len = bpf_ntohs(*(__be16 *)(m + 2));
	if ((type & 0xc000) || (len & 3) || len != payload - 20)
		return 0;
	if (*(__be32 *)(m + 4) != bpf_htonl(STUN_MAGIC_COOKIE))
		return type == 0x0001;
	__u16 method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
	return method == 0x001 || (method >= cfg->stun_method_first && method <= cfg->stun_method_last);
}

// take spends one token from b, refilling it first; 0 means the budget is
// spent.
static __always_inline int take(struct bucket *b, struct bucket_param *bp, __u64 now)
{
	// Another CPU may have stamped the bucket with a reading a tick newer
	// than ours: that is no time elapsed, not a wrap to a full bucket.
	__u64 elapsed = now > b->stamp ? now - b->stamp : 0;
	if (elapsed >= bp->fill_ns) {
		b->tokens = bp->burst;
		b->stamp = now;
	} else if (elapsed >= bp->ns_per_token) {
		__u64 add = elapsed / bp->ns_per_token;
		b->tokens += add;
		b->stamp += add * bp->ns_per_token;
		if (b->tokens >= bp->burst) {
			b->tokens = bp->burst;
			b->stamp = now;
		}
	}
	if (b->tokens == 0)
		return 0;
	b->tokens--;
	return 1;
}

#define FIB64 0x9e3779b97f4a7c15ULL // 2^64 / golden ratio: Fibonacci hashing

static __always_inline __u64 source_key(struct pkt *p)
{
	if (p->v6) {
		__u64 k = *(__u64 *)p->saddr6; // the /64
		// 0 marks an empty slot: ::/64 shares the budget of 100::/64
		// (RFC 6666 discard-only), both special-purpose sources that
		// only get here in packets accepting bogons (ICMPv6 errors).
		return k ? k : 1;
	}
	return ((__u64)p->saddr4 << 32) | 0xffffffff;
}

static __always_inline __u32 source_slot_index(__u64 key)
{
	return (key * FIB64) >> (64 - SOURCE_SLOT_BITS);
}

// acl_lookup returns the source's action, or ACL_DYNAMIC while a dynamic
// block is in force (and sets *expiry to its end).
#define ACL_DYNAMIC 0x80 // not in enum acl_action; fits the verdict's 8 bits

static __always_inline __u32 acl_entry_action(void *map, void *key, __u32 *prefixlen,
					      __u32 block_len, struct acl_entry *e, __u64 *expiry)
{
	if (!e)
		return ACL_NONE;
	if (!e->expiry)
		return e->action;
	if (e->expiry > now_ns()) {
		*expiry = e->expiry;
		return ACL_DYNAMIC;
	}
	// Expired: the static lists' verdict for the address applies again.
	enum acl_action a = e->action;
	if (e->is_static) {
		e->expiry = 0;
	} else {
		// A dynamic-only entry is a block prefix: delete it at its
		// length (the trie ignores the key's bits beyond it).
		*prefixlen = block_len;
		bpf_map_delete_elem(map, key);
	}
	return a;
}

static __always_inline __u32 acl_lookup(struct pkt *p, __u64 *expiry)
{
	if (p->v6) {
		struct lpm6_key k = {.prefixlen = 128};
		__builtin_memcpy(k.addr, p->saddr6, 16);
		return acl_entry_action(&acl6, &k, &k.prefixlen, BLOCK6_PREFIXLEN,
					bpf_map_lookup_elem(&acl6, &k), expiry);
	}
	struct lpm4_key k = {.prefixlen = 32};
	__builtin_memcpy(k.addr, &p->saddr4, 4);
	return acl_entry_action(&acl4, &k, &k.prefixlen, 32, bpf_map_lookup_elem(&acl4, &k),
				expiry);
}

// verdict_tag is the part of a cached verdict that must match: generation
// and which address of the /64 (see struct source_state).
static __always_inline __u64 verdict_tag(struct pkt *p, __u64 gen)
{
	__u64 tag = gen << 32;
	if (p->v6) {
		__u64 iid = *(__u64 *)&p->saddr6->s6_addr[8];
		tag |= (((iid * FIB64) >> 41) << 9) | (1 << 8);
	} else {
		tag |= (((__u64)p->saddr4 * FIB64) >> 41) << 9;
	}
	return tag;
}

// cached_action returns the verdict cached in st if it still holds, else -1.
static __always_inline int cached_action(struct source_state *st, __u64 tag)
{
	__u64 v = *(volatile __u64 *)&st->verdict; // one load: see source_state
	if ((v & ~0xffULL) != tag)
		return -1;
	int action = v & 0xff;
	if (action == ACL_DYNAMIC && st->expiry <= now_ns())
		return -1; // the trie restores the static verdict
	return action;
}

static __always_inline void cache_action(struct source_state *st, __u64 tag, __u32 action,
					 __u64 expiry)
{
	st->expiry = expiry;
	asm volatile("" ::: "memory"); // the expiry is in place before the verdict
	*(volatile __u64 *)&st->verdict = tag | action;
}

// evictable reports whether the occupant of a slot would lose nothing by
// being replaced: each bucket is, or has refilled to, full. Only new
// sources pay for it, after the admission budget.
static __always_inline int evictable(struct source_slot *slot, struct settings *cfg, __u64 now)
{
	if (!slot->key)
		return 1;
#pragma unroll
	for (int i = 0; i < NUM_RATE_CLASSES; i++) {
		struct bucket *b = &slot->st.b[i];
		struct bucket_param *bp = &cfg->rate[i];
		if (!bp->ns_per_token || b->tokens >= bp->burst)
			continue;
		__u64 elapsed = now > b->stamp ? now - b->stamp : 0;
		if (elapsed < bp->fill_ns && elapsed < (bp->burst - b->tokens) * bp->ns_per_token)
			return 0;
	}
	return 1;
}

static __always_inline enum reason rate_reason(int class)
{
	return class == RATE_SYN ? REASON_DROP_RATE_SYN
	       : class == RATE_UDP ? REASON_DROP_RATE_UDP
				   : REASON_DROP_RATE_ICMP;
}

// check_source applies the source lists (own address, allow, block, bogon,
// dynamic block) and the source's budget for class to a packet the port
// policy would let through as pass.
static __always_inline int check_source(struct pkt *p, struct settings *cfg, int class,
					int bogon_ok, enum reason pass)
{
	__u32 zero = 0;
	__u64 *genp = bpf_map_lookup_elem(&acl_gen, &zero);
	__u64 gen = genp ? *genp : 0; // before the trie: see acl_gen

	// A packet of a rate class (charged to a budget, or that would be if
	// the budget were on) looks its source up first: a known source
	// carries its verdict, which saves the trie lookup.
	struct source_state *st = 0;
	struct source_slot *slot = 0;
	__u64 key = 0;
	int tracked = class >= 0 && class < NUM_RATE_CLASSES;
	int budget = tracked && cfg->rate[class].ns_per_token;
	if (tracked) {
		key = source_key(p);
		__u32 idx = source_slot_index(key);
		slot = bpf_map_lookup_elem(&sources, &idx);
		if (slot && slot->key == key)
			st = &slot->st;
	}
	__u64 tag = verdict_tag(p, gen);
	__u64 expiry = 0;
	int action = st ? cached_action(st, tag) : -1;
	if (action < 0) {
		action = acl_lookup(p, &expiry);
		if (st)
			cache_action(st, tag, action, expiry);
	}

	switch (action) {
	case ACL_DYNAMIC:
		return REASON_DROP_DYNAMIC;
	case ACL_OWN:
		return REASON_DROP_OWN_SOURCE;
	case ACL_BLOCK:
		return REASON_DROP_BLOCKED;
	case ACL_BOGON:
		if (!bogon_ok)
			return REASON_DROP_BOGON;
		break;
	default:
		break;
	}
	if (!tracked || class < 0 || class >= NUM_RATE_CLASSES)
		return pass;
	if (st) {
		// Allowed sources are trusted: they skip the budgets.
		if (!budget || action == ACL_ALLOW || take(&st->b[class], &cfg->rate[class], now_ns()))
			return pass;
		return rate_reason(class);
	}

	// A new source: track it while the admission budget lasts and its slot
	// is free to take.
	if (!slot)
		return pass;
	__u64 now = now_ns();
	if (cfg->track.ns_per_token) {
		struct bucket *tb = bpf_map_lookup_elem(&track_budget, &zero);
		if (tb && !take(tb, &cfg->track, now))
			return pass; // untracked: see track_budget
	}
	if (!evictable(slot, cfg, now))
		return pass; // untracked: the occupant is being limited
	// A cleared verdict has generation 0, which Go never writes: no tag
	// matches it (see source_slot).
	*(volatile __u64 *)&slot->st.verdict = 0;
	asm volatile("" ::: "memory");
	*(volatile __u64 *)&slot->key = key;
	asm volatile("" ::: "memory");
#pragma unroll
	for (int i = 0; i < NUM_RATE_CLASSES; i++) {
		slot->st.b[i].stamp = now;
		slot->st.b[i].tokens = cfg->rate[i].burst;
	}
	if (budget && action != ACL_ALLOW)
		slot->st.b[class].tokens--;
	cache_action(&slot->st, tag, action, expiry);
	return pass;
}

static __always_inline int in_range(__u16 port, struct settings *cfg)
{
	return port >= cfg->ephemeral_first && port <= cfg->ephemeral_last;
}

static __always_inline __u32 port_flags(__u16 port)
{
	__u32 k = port;
	enum port_flag *f = bpf_map_lookup_elem(&ports, &k);
	return f ? *f : 0;
}

// The Binding fast path. A well-formed Binding request to a STUN port that
// passed every check above, including the source's budget, is answered here
// with XDP_TX: the same answer, byte for byte, that the userspace server
// (supernode/server, binding()) sends, so that moving it into the driver
// changes nothing a client can see. The userspace server stays the
// reference: anything this path does not know goes up to it unchanged.
//
// Answered here (everything else passes):
//   - RFC 8489 (magic cookie), no attribute: XOR-MAPPED-ADDRESS;
//   - RFC 8489 with only FINGERPRINT, whose CRC holds: XOR-MAPPED-ADDRESS
//     and FINGERPRINT (RFC 8489 7.3: a reply carries FINGERPRINT only when
//     the request did; a wrong CRC goes up, where it is dropped and counted);
//   - RFC 3489 (no cookie), no attribute or only CHANGE-REQUEST without
//     change flags (what classic NAT-type probes send first, which asks
//     nothing of us): MAPPED-ADDRESS;
//   over IPv4 (no options: the filter drops them) or IPv6 (extension
//   headers skipped), behind up to two VLAN tags, which the answer keeps.
//   Only a request whose UDP checksum holds is answered (0, none: IPv4 only), as
//   the kernel would drop it before the socket.
// The answer is never more than 12 (IPv4) or 24 (IPv6) bytes larger than
// the request, the bound the userspace server documents for Binding
// (supernode/README.md, "No amplification"): at most 1.6x a bare IPv4
// request, and the per-source budget above has already been charged.
#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_CHANGE_REQUEST 0x0003
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_FINGERPRINT 0x8028
#define STUN_FINGERPRINT_XOR 0x5354554e // RFC 8489 14.7
#define BINDING_MAX_REPLY 52            // IPv6: header, address, FINGERPRINT
#define ANSWER_TTL 64                   // what the kernel's default would use

// CRC-32 (IEEE 802.3, reflected 0xEDB88320), for FINGERPRINT. A table in
// .rodata: one load per byte instead of eight shifts.
static const __u32 crc_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f,
	0xe963a535, 0x9e6495a3, 0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988,
	0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91, 0x1db71064, 0x6ab020f2,
	0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
	0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9,
	0xfa0f3d63, 0x8d080df5, 0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172,
	0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b, 0x35b5a8fa, 0x42b2986c,
	0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
	0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423,
	0xcfba9599, 0xb8bda50f, 0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924,
	0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d, 0x76dc4190, 0x01db7106,
	0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
	0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d,
	0x91646c97, 0xe6635c01, 0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
	0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457, 0x65b0d9c6, 0x12b7e950,
	0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
	0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7,
	0xa4d1c46d, 0xd3d6f4fb, 0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0,
	0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9, 0x5005713c, 0x270241aa,
	0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
	0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81,
	0xb7bd5c3b, 0xc0ba6cad, 0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a,
	0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683, 0xe3630b12, 0x94643b84,
	0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
	0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb,
	0x196c3671, 0x6e6b06e7, 0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc,
	0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5, 0xd6d6a3e8, 0xa1d1937e,
	0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55,
	0x316e8eef, 0x4669be79, 0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236,
	0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f, 0xc5ba3bbe, 0xb2bd0b28,
	0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
	0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f,
	0x72076785, 0x05005713, 0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38,
	0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21, 0x86d3d2d4, 0xf1d4e242,
	0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
	0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69,
	0x616bffd3, 0x166ccf45, 0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2,
	0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db, 0xaed16a4a, 0xd9d65adc,
	0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
	0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693,
	0x54de5729, 0x23d967bf, 0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
	0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static __always_inline __u32 crc32_inline(const __u8 *b, __u32 n)
{
	__u32 c = 0xffffffff;
	for (int i = 0; i < BINDING_MAX_REPLY; i++) {
		if (i >= n)
			break;
		c = crc_table[(c ^ b[i]) & 0xff] ^ (c >> 8);
	}
	return ~c;
}

// sum16 adds n bytes (n even) of b as big-endian 16-bit words to sum: the
// one's complement sum of RFC 1071, folded later.
static __always_inline __u32 sum16(const __u8 *b, __u32 n, __u32 sum)
{
	for (int i = 0; i < BINDING_MAX_REPLY; i += 2) {
		if (i >= n)
			break;
		sum += ((__u32)b[i] << 8) | b[i + 1];
	}
	return sum;
}

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

// What the answer needs from the request, copied out before the frame is
// resized (bpf_xdp_adjust_tail invalidates every packet pointer).
struct binding {
	__u8 msg[BINDING_MAX_REPLY]; // request, then answer (STUN message)
	__u8 saddr[16], daddr[16];    // network order; IPv4 in the first 4
	__be16 sport, dport;
	__u8 l2[22]; // Ethernet and VLAN tags
	__u32 l3off;
	__u32 len; // answer length
};

// msg_crc32 and msg_sum16 are the STUN message's FINGERPRINT CRC and its
// part of the UDP checksum. Global functions: the verifier walks their
// 52-step loops once, on their own, instead of once for every path of
// binding_answer that calls them (which made it 73% of the program's
// verification). b may be NULL only in the verifier's eyes.
__attribute__((noinline)) __u32 msg_crc32(struct binding *b, __u32 n)
{
	if (!b)
		return 0;
	return crc32_inline(b->msg, n);
}

__attribute__((noinline)) __u32 msg_sum16(struct binding *b, __u32 n, __u32 sum)
{
	if (!b)
		return 0;
	return sum16(b->msg, n, sum);
}

// addr_sum is the pseudo-header's address part of the checksum (global,
// like msg_sum16).
__attribute__((noinline)) __u32 addr_sum(struct binding *b, int v6)
{
	if (!b)
		return 0;
	__u32 sum = sum16(b->saddr, 4, 0);
	sum = sum16(b->daddr, 4, sum);
	if (v6) {
		sum = sum16(b->saddr + 4, 12, sum);
		sum = sum16(b->daddr + 4, 12, sum);
	}
	return sum;
}

// binding_answer answers a Binding request that classify passed as
// pass_service in place and returns 0, or returns -1 and leaves the frame
// as it was, for userspace.
//
// A global function: the verifier checks it once, on its own, instead of
// once for every path of classify that reaches it (which exceeded its
// budget of a million instructions). So it parses the headers again, which
// classify has checked already: only what locating the STUN message needs.
//
// Its argument is `void *` tagged arg:ctx (Linux 6.8+): the verifier takes
// it as the program's context from the tag alone. Declared as
// `struct xdp_md *`, the verifier would match that type against the
// kernel's own BTF, which the hardened kernel (no DEBUG_INFO) does not
// carry, and refuse the call.
__attribute__((noinline)) int binding_answer(void *xctx __attribute__((btf_decl_tag("arg:ctx"))))
{
	struct xdp_md *ctx = xctx;
	struct binding b = {};
	void *data = (void *)(long)ctx->data;
	struct pkt pk = {.end = (void *)(long)ctx->data_end};
	struct pkt *p = &pk;
	struct udphdr *udp;
	__u32 zero = 0;

	struct settings *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(cfg->flags & SETTING_BINDING_FAST_PATH))
		return -1;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > p->end)
		return -1;
	__be16 proto = eth->h_proto;
	void *l3 = eth + 1;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		struct vlan_hdr *vh = l3;
		if ((void *)(vh + 1) > p->end)
			return -1;
		proto = vh->encap_proto;
		l3 = vh + 1;
	}
	p->l3 = l3;
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > p->end)
			return -1;
		// Extension headers (which classify has checked: at most
		// MAX_IPV6_EXT, Hop-by-Hop first, no routing segments left) are
		// skipped; the answer, like the kernel's, carries none. Only a
		// whole packet is answered: an atomic fragment (RFC 6946) is one.
		__u8 nh = ip6->nexthdr;
		__u8 *h = (__u8 *)(ip6 + 1);
#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT; i++) {
			if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_DSTOPTS && nh != IPPROTO_ROUTING &&
			    nh != IPPROTO_FRAGMENT)
				break;
			if ((void *)(h + 8) > p->end)
				return -1;
			__u32 len = ((__u32)h[1] + 1) * 8;
			if (nh == IPPROTO_FRAGMENT) {
				if (*(__be16 *)(h + 2) & bpf_htons(0xfff9))
					return -1; // offset or more fragments
				len = 8;
			}
			nh = h[0];
			h += len;
		}
		if (nh != IPPROTO_UDP)
			return -1;
		p->v6 = 1;
		udp = (struct udphdr *)h;
	} else if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = l3;
		if ((void *)(iph + 1) > p->end)
			return -1;
		if (iph->ihl != 5 || iph->protocol != IPPROTO_UDP || (iph->frag_off & bpf_htons(0x3fff)))
			return -1; // options, or a fragment (with fragments allowed)
		// The header checksum, which the kernel checks after XDP: a
		// request it would drop is not answered here either.
		__u32 hsum = 0;
		__u16 *w = (__u16 *)iph;
#pragma unroll
		for (int i = 0; i < 10; i++)
			hsum += w[i];
		if (fold(hsum) != 0xffff)
			return -1;
		udp = (struct udphdr *)(iph + 1);
	} else {
		return -1;
	}
	if ((void *)(udp + 1) > p->end)
		return -1;
	if (!(port_flags(bpf_ntohs(udp->dest)) & PORT_STUN))
		return -1;
	__u32 payload = bpf_ntohs(udp->len) - sizeof(*udp);
	__u8 *m = (__u8 *)(udp + 1);
	if (payload != 20 && payload != 28)
		return -1;
	if ((void *)(m + 20) > p->end)
		return -1;
	__builtin_memcpy(b.msg, m, 20);
	if (payload == 28) {
		if ((void *)(m + 28) > p->end)
			return -1;
		__builtin_memcpy(b.msg + 20, m + 20, 8);
	}
	if (b.msg[0] != 0x00 || b.msg[1] != 0x01)
		return -1; // not a Binding request
	int classic = *(__be32 *)(b.msg + 4) != bpf_htonl(STUN_MAGIC_COOKIE);
	int fp = 0;
	if (payload == 28) {
		__u16 at = ((__u16)b.msg[20] << 8) | b.msg[21];
		__u16 al = ((__u16)b.msg[22] << 8) | b.msg[23];
		if (al != 4)
			return -1;
		if (!classic && at == STUN_ATTR_FINGERPRINT) {
			__u32 want = ((__u32)b.msg[24] << 24) | ((__u32)b.msg[25] << 16) |
				     ((__u32)b.msg[26] << 8) | b.msg[27];
			if ((msg_crc32(&b, 20) ^ STUN_FINGERPRINT_XOR) != want)
				return -1;
			fp = 1;
		} else if (classic && at == STUN_ATTR_CHANGE_REQUEST) {
			if (b.msg[27] & 0x06)
				return -1; // change IP or port: we have one address
		} else {
			return -1;
		}
	}

	// The addresses and ports, and the request's UDP checksum.
	b.sport = udp->source;
	b.dport = udp->dest;
	if (p->v6) {
		struct ipv6hdr *ip6 = p->l3;
		if ((void *)(ip6 + 1) > p->end)
			return -1;
		__builtin_memcpy(b.saddr, &ip6->saddr, 16);
		__builtin_memcpy(b.daddr, &ip6->daddr, 16);
	} else {
		struct iphdr *iph = p->l3;
		if ((void *)(iph + 1) > p->end)
			return -1;
		__builtin_memcpy(b.saddr, &iph->saddr, 4);
		__builtin_memcpy(b.daddr, &iph->daddr, 4);
	}
	if (udp->check == 0) {
		if (p->v6)
			return -1; // mandatory over IPv6 (RFC 8200 8.1)
	} else {
		__u32 sum = addr_sum(&b, p->v6) + IPPROTO_UDP + 8 + payload;
		sum += bpf_ntohs(udp->source) + bpf_ntohs(udp->dest) + bpf_ntohs(udp->len) +
		       bpf_ntohs(udp->check);
		sum = msg_sum16(&b, payload, sum);
		if (fold(sum) != 0xffff)
			return -1;
	}

	// The answer, in b.msg: header (type, length, then the request's
	// bytes 4..20: cookie and transaction ID, or RFC 3489's 128-bit ID),
	// the mapped address, FINGERPRINT.
	__u32 alen = p->v6 ? 20 : 8;
	__u32 len = 20 + 4 + alen + (fp ? 8 : 0);
	b.msg[0] = 0x01;
	b.msg[1] = 0x01;
	b.msg[2] = 0;
	b.msg[3] = len - 20;
	__u8 *a = b.msg + 20;
	__u16 at = classic ? STUN_ATTR_MAPPED_ADDRESS : STUN_ATTR_XOR_MAPPED_ADDRESS;
	a[0] = at >> 8;
	a[1] = at & 0xff;
	a[2] = 0;
	a[3] = alen;
	a[4] = 0;
	a[5] = p->v6 ? 2 : 1; // family (RFC 8489 14.1)
	__builtin_memcpy(a + 6, &b.sport, 2);
	if (p->v6)
		__builtin_memcpy(a + 8, b.saddr, 16);
	else
		__builtin_memcpy(a + 8, b.saddr, 4);
	if (!classic) {
		// RFC 8489 14.2: port ^ the cookie's top half, address ^
		// cookie (|| transaction ID for IPv6): bytes 4.. of the header.
		a[6] ^= b.msg[4];
		a[7] ^= b.msg[5];
		__u32 n = p->v6 ? 16 : 4;
		for (int i = 0; i < 16; i++) {
			if (i >= n)
				break;
			a[8 + i] ^= b.msg[4 + i];
		}
	}
	if (fp) {
		__u8 *f = a + 4 + alen;
		__u32 crc = msg_crc32(&b, len - 8) ^ STUN_FINGERPRINT_XOR;
		f[0] = STUN_ATTR_FINGERPRINT >> 8;
		f[1] = STUN_ATTR_FINGERPRINT & 0xff;
		f[2] = 0;
		f[3] = 4;
		f[4] = crc >> 24;
		f[5] = crc >> 16;
		f[6] = crc >> 8;
		f[7] = crc;
	}
	b.len = len;

	// Resize the frame to exactly the answer, then write it whole: L2
	// header (saved here), IP, UDP, STUN. A longer answer grows the frame
	// at its head: drivers keep XDP_PACKET_HEADROOM (256 bytes) in front of
	// every frame, while the room behind it depends on the driver (veth
	// gives a small skb's frame almost none). A shorter one (Ethernet
	// padding) gives its tail back.
	__u32 l3off = p->l3 - data;
	l3off &= 0x1f; // 14, 18 or 22: Ethernet and up to two VLAN tags
	if (data + sizeof(b.l2) > p->end)
		return -1; // unreachable: the frame holds L2, L3, UDP and STUN
	__builtin_memcpy(b.l2, data, sizeof(b.l2));
	__u32 iplen = p->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	int delta = (int)(l3off + iplen + 8 + len) - (int)(p->end - data);
	if (delta > 0 && bpf_xdp_adjust_head(ctx, -delta))
		return -1;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	// The frame has the answer's size now; the bounds below always hold.
	if (data + sizeof(b.l2) > end)
		return -1;
	// Ethernet: back where it came from; VLAN tags stay as they were.
	__builtin_memcpy(data, b.l2 + 6, 6);
	__builtin_memcpy(data + 6, b.l2, 6);
	__builtin_memcpy(data + 12, b.l2 + 12, 2);
	if (l3off >= 18)
		__builtin_memcpy(data + 14, b.l2 + 14, 4);
	if (l3off >= 22)
		__builtin_memcpy(data + 18, b.l2 + 18, 4);

	__u32 usum = addr_sum(&b, p->v6) + IPPROTO_UDP + 2 * (8 + len) + bpf_ntohs(b.sport) +
		     bpf_ntohs(b.dport);
	usum = msg_sum16(&b, len, usum);
	__u16 ucheck = ~fold(usum);
	if (ucheck == 0)
		ucheck = 0xffff; // RFC 768: a computed 0 is sent as all ones

	struct udphdr *u;
	if (p->v6) {
		struct ipv6hdr *ip6 = data + l3off;
		u = (struct udphdr *)(ip6 + 1);
		if ((void *)(u + 1) > end)
			return -1;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(8 + len);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = ANSWER_TTL;
		__builtin_memcpy(&ip6->saddr, b.daddr, 16);
		__builtin_memcpy(&ip6->daddr, b.saddr, 16);
	} else {
		struct iphdr *iph = data + l3off;
		u = (struct udphdr *)(iph + 1);
		if ((void *)(u + 1) > end)
			return -1;
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + 8 + len);
		iph->id = 0;
		iph->frag_off = bpf_htons(0x4000); // DF, as the kernel's UDP sends
		iph->ttl = ANSWER_TTL;
		iph->protocol = IPPROTO_UDP;
		iph->check = 0;
		__builtin_memcpy(&iph->saddr, b.daddr, 4);
		__builtin_memcpy(&iph->daddr, b.saddr, 4);
		__u32 isum = 0;
		__u16 *w = (__u16 *)iph;
#pragma unroll
		for (int i = 0; i < 10; i++)
			isum += w[i];
		iph->check = ~fold(isum);
	}
	u->source = b.dport;
	u->dest = b.sport;
	u->len = bpf_htons(8 + len);
	u->check = bpf_htons(ucheck);
	__u8 *out = (__u8 *)(u + 1);
	if (len == 32) {
		if ((void *)(out + 32) > end)
			return -1;
		__builtin_memcpy(out, b.msg, 32);
	} else if (len == 40) {
		if ((void *)(out + 40) > end)
			return -1;
		__builtin_memcpy(out, b.msg, 40);
	} else if (len == 44) {
		if ((void *)(out + 44) > end)
			return -1;
		__builtin_memcpy(out, b.msg, 44);
	} else {
		if ((void *)(out + 52) > end)
			return -1;
		__builtin_memcpy(out, b.msg, 52);
	}

	return 0;
}

static __always_inline int classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct pkt p = {.end = (void *)(long)ctx->data_end};
	__u32 zero = 0;
	struct settings *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return REASON_DROP_TRUNCATED; // unreachable: array index 0

	// L2: Ethernet and up to two 802.1Q / 802.1ad tags, so a tagged
	// packet cannot walk around the checks below.
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > p.end)
		return REASON_DROP_TRUNCATED;
	__be16 proto = eth->h_proto;
	void *l3 = eth + 1;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		struct vlan_hdr *vh = l3;
		if ((void *)(vh + 1) > p.end)
			return REASON_DROP_TRUNCATED;
		proto = vh->encap_proto;
		l3 = vh + 1;
	}

	int r;
	if (proto == bpf_htons(ETH_P_IP))
		r = parse_ipv4(&p, l3);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6(&p, l3);
	else if (proto == bpf_htons(ETH_P_ARP))
		return REASON_PASS_ARP;
	else if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD_))
		return REASON_DROP_VLAN;
	else
		return REASON_DROP_ETHERTYPE;
	if (r >= 0)
		return r;

	// L4 sanity and port policy. Each branch sets the pass reason, the
	// rate class and whether a special-purpose source is acceptable.
	enum reason pass;
	int class = -1;
	int bogon_ok = 0;
	int drop_frags = cfg->flags & SETTING_DROP_SERVICE_FRAGMENTS;

	if (p.frag == FRAG_LATER) {
		// No transport header: the packet can never match a port
		// rule, so only the fragment policy decides.
		if (drop_frags)
			return REASON_DROP_FRAGMENT;
		pass = REASON_PASS_FRAGMENT;
	} else if (p.proto == IPPROTO_UDP) {
		struct udphdr *udp = p.l4;
		if ((void *)(udp + 1) > p.end)
			return REASON_DROP_TRUNCATED;
		__u32 ulen = bpf_ntohs(udp->len);
		// RFC 768: the length covers header and data. A first
		// fragment carries only part of the datagram.
		if (ulen < sizeof(*udp) || (p.frag ? ulen < p.l4_len : ulen != p.l4_len))
			return REASON_DROP_UDP_LENGTH;
		__u16 sport = bpf_ntohs(udp->source), dport = bpf_ntohs(udp->dest);
		if (sport == 0 || dport == 0)
			return REASON_DROP_PORT_ZERO;
		__u32 df = port_flags(dport);
		class = RATE_UDP;
		if (df & PORT_UDP) {
			if (p.frag && drop_frags)
				return REASON_DROP_FRAGMENT;
			if (port_flags(sport) & PORT_REFLECTOR)
				return REASON_DROP_REFLECTION;
			if ((df & PORT_STUN) && !p.frag && !stun_ok(&p, udp, ulen - sizeof(*udp), cfg))
				return REASON_DROP_STUN;
			pass = REASON_PASS_SERVICE;
		} else if ((!p.v6 && sport == 67 && dport == 68) ||
			   (p.v6 && sport == 547 && dport == 546)) {
			// DHCP / DHCPv6 replies; the server may sit on a
			// private address (RFC 2131, RFC 8415).
			pass = REASON_PASS_CONTROL;
			bogon_ok = 1;
		} else if (in_range(dport, cfg)) {
			pass = REASON_PASS_REPLY;
		} else {
			return REASON_DROP_PORT_CLOSED;
		}
	} else if (p.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = p.l4;
		if ((void *)(tcp + 1) > p.end)
			return REASON_DROP_TRUNCATED;
		if (tcp->doff < 5 || (__u32)tcp->doff * 4 > p.l4_len)
			return REASON_DROP_TCP_HEADER;
		__u8 fl = ((__u8 *)tcp)[13];
		// Combinations no TCP stack sends (RFC 9293): NULL, Xmas
		// (FIN+PSH+URG), SYN+FIN, SYN+RST, FIN without ACK.
		if ((fl & 0x3f) == 0 || (fl & (TCP_FIN | TCP_PSH | TCP_URG)) == (TCP_FIN | TCP_PSH | TCP_URG) ||
		    (fl & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN) ||
		    (fl & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) ||
		    (fl & (TCP_FIN | TCP_ACK)) == TCP_FIN)
			return REASON_DROP_TCP_FLAGS;
		__u16 sport = bpf_ntohs(tcp->source), dport = bpf_ntohs(tcp->dest);
		if (sport == 0 || dport == 0)
			return REASON_DROP_PORT_ZERO;
		if (port_flags(dport) & PORT_TCP) {
			if (p.frag && drop_frags)
				return REASON_DROP_FRAGMENT;
			if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
				class = RATE_SYN;
			pass = REASON_PASS_SERVICE;
		} else if ((fl & (TCP_ACK | TCP_RST)) && in_range(dport, cfg)) {
			// Our own connections: SYN+ACK and everything after,
			// and the bare RST a peer without the connection sends
			// (RFC 9293 3.10.7.1: no ACK when answering an ACK).
			pass = REASON_PASS_REPLY;
		} else {
			return REASON_DROP_PORT_CLOSED;
		}
	} else if (p.proto == IPPROTO_ICMP && !p.v6) {
		__u8 *icmp = p.l4;
		if ((void *)(icmp + 8) > p.end)
			return REASON_DROP_TRUNCATED;
		switch (icmp[0]) {
		case 3:  // destination unreachable, incl. fragmentation needed (RFC 1191)
		case 11: // time exceeded
		case 12: // parameter problem
			// Errors come from routers, which may well use
			// private addresses (RFC 6890 ranges appear in paths).
			bogon_ok = 1;
			break;
		case 0: // echo reply
		case 8: // echo request
			break;
		default: // redirect, source quench, timestamp, address mask, ...
			return REASON_DROP_ICMP_TYPE;
		}
		class = RATE_ICMP;
		pass = REASON_PASS_ICMP;
	} else if (p.proto == IPPROTO_ICMPV6 && p.v6) {
		__u8 *icmp = p.l4;
		if ((void *)(icmp + 8) > p.end)
			return REASON_DROP_TRUNCATED;
		__u8 type = icmp[0];
		if (type >= 133 && type <= 136) {
			// NDP (RFC 4861 6.1.1, 7.1.1): hop limit 255 proves
			// the sender is on the link; nothing else is needed.
			if (p.hop_limit != 255 || icmp[1] != 0)
				return REASON_DROP_ICMP_TYPE;
			return REASON_PASS_CONTROL;
		}
		if (type == 130 || type == 131 || type == 132 || type == 143) {
			// MLD (RFC 3810 5): link-local source, hop limit 1.
			if (p.hop_limit != 1 || p.saddr6->s6_addr[0] != 0xfe ||
			    (p.saddr6->s6_addr[1] & 0xc0) != 0x80)
				return REASON_DROP_ICMP_TYPE;
			return REASON_PASS_CONTROL;
		}
		if (type >= 1 && type <= 4) // unreachable, packet too big (RFC 8201), time exceeded, parameter problem
			bogon_ok = 1;
		else if (type != 128 && type != 129) // echo request / reply; redirects (137) and the rest drop
			return REASON_DROP_ICMP_TYPE;
		class = RATE_ICMP;
		pass = REASON_PASS_ICMP;
	} else {
		return REASON_DROP_PROTOCOL;
	}

	// Sources: the lists (one LPM lookup, or the verdict cached with a
	// known source) and the per-source budgets.
	return check_source(&p, cfg, class, bogon_ok, pass);
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	enum reason r = classify(ctx);
	// The Binding fast path runs last: a request it answers has passed
	// every check and been charged to its source's budget.
	if (r == REASON_PASS_SERVICE && binding_answer(ctx) == 0)
		r = REASON_TX_BINDING;
	return account(len, r);
}

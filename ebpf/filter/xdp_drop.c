//go:build ignore

// xdp_drop drops every packet and does nothing else: the floor that the
// benchmarks compare the filter against.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

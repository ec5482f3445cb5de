package filter

// The C programs are compiled with Debian's clang; the generated Go files and
// objects are committed, so a plain `go build` needs no clang. `make generate`
// runs these lines.
//go:generate go tool bpf2go -tags linux -target bpfel -type reason -type counter -type settings -type bucket_param -type setting_flag -type port_flag -type acl_action -type acl_entry -type lpm4_key -type lpm6_key -type bucket -type source_state -type source_slot xdp xdp_filter.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -Werror
//go:generate go tool bpf2go -tags linux -target bpfel floor xdp_drop.c -- -I/usr/include/x86_64-linux-gnu -O2 -g -Wall -Werror

// Package supernode holds the tests that check the supernode against
// software nobody on this project wrote and across network namespaces:
// interop with coturn's turnutils_stunclient and turnserver, Debian's
// RFC 3489 `stun` client and pion/stun; NAT hole punching between two
// peers behind nftables NATs; spoofed-source registrations. They run the
// built binaries (bin/supernode, bin/supernode-client), as an operator would.
//
// The package has no code outside its tests.
package supernode

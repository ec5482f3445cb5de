package hardening

import "unsafe"

// unsafePointer views a netlink payload as a kernel struct; the caller
// checks the length first.
func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

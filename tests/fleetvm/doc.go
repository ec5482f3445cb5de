// Package fleetvm boots three appliances from one image under QEMU, on one
// virtual L2 network inside a network namespace, configured only by
// credentials the hypervisor passes (fw_cfg), and checks that they form a
// supernode fleet that loses no registered peer when one of them dies.
package fleetvm

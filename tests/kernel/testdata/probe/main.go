// Command probe is the /init of a throwaway initramfs: it loads the XDP
// filter into the kernel it boots on, runs one legitimate STUN frame through
// it, prints one PROBE-RESULT line on the console and powers the VM off.
// tests/kernel boots it on the appliance's own kernel so a program the host's
// newer verifier accepts but the appliance's rejects is caught before boot.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/supernode-appliance/appliance/ebpf/filter"
	"golang.org/x/sys/unix"
)

func main() {
	err := probe()
	if err != nil {
		// The verifier log is long; its last lines say what failed.
		lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Printf("PROBE-RESULT fail: %s\n", strings.Join(lines, "\n"))
	} else {
		fmt.Println("PROBE-RESULT ok")
	}
	os.Stdout.Sync()
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func probe() error {
	// cilium/ebpf reads /proc/self/mountinfo and /sys/kernel/btf.
	for _, m := range []struct{ dir, fs string }{{"/proc", "proc"}, {"/sys", "sysfs"}} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
	}
	f, err := filter.Open("")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Configure(filter.DefaultConfig()); err != nil {
		return err
	}
	// The Binding fast path (on by default) answers it in the driver:
	// XDP_TX, and the frame grown into a 32-byte Binding success response.
	opts := &ebpf.RunOptions{Data: stunFrame(), DataOut: make([]byte, 256)}
	ret, err := f.Program().Run(opts)
	if err != nil {
		return fmt.Errorf("test run: %w", err)
	}
	if ret != 3 { // XDP_TX
		return fmt.Errorf("legitimate STUN binding got verdict %d, want XDP_TX (answered by the fast path)", ret)
	}
	if out := opts.DataOut; len(out) != 14+20+8+32 || out[42] != 0x01 || out[43] != 0x01 {
		return fmt.Errorf("fast-path answer is not a 32-byte Binding success response: % x", out)
	}
	c := filter.DefaultConfig()
	c.BindingFastPath = false
	if err := f.Configure(c); err != nil {
		return err
	}
	if ret, err = f.Program().Run(&ebpf.RunOptions{Data: stunFrame()}); err != nil {
		return fmt.Errorf("test run: %w", err)
	}
	if ret != 2 { // XDP_PASS
		return fmt.Errorf("legitimate STUN binding with the fast path off got verdict %d, want XDP_PASS", ret)
	}
	return nil
}

// stunFrame is Ethernet + IPv4 + UDP + a STUN Binding request from a public
// address to the supernode port (IPv4 header checksum set; UDP checksum 0, "none").
func stunFrame() []byte {
	stun := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	udpLen := 8 + len(stun)
	ipLen := 20 + udpLen
	f := []byte{
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00, // Ethernet, IPv4
		0x45, 0, byte(ipLen >> 8), byte(ipLen), 0, 1, 0, 0, 64, 17, 0, 0, // IPv4, UDP
		8, 8, 4, 4, // source: a public address
		9, 9, 9, 9, // destination
		0xc3, 0x50, 0x0d, 0x96, byte(udpLen >> 8), byte(udpLen), 0, 0, // 50000 -> 3478
	}
	// The IPv4 header checksum: the fast path, like the kernel, does
	// not answer a packet whose header is damaged.
	var sum uint32
	for i := 14; i < 34; i += 2 {
		sum += uint32(f[i])<<8 | uint32(f[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	f[24], f[25] = byte(^sum>>8), byte(^sum)
	return append(f, stun...)
}

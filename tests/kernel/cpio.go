// Package kernel tests the appliance's parts on the appliance's own kernel
// (Debian trixie's, booted under QEMU), not just on the host's.
package kernel

import (
	"fmt"
	"io"
)

// cpioEntry is one file or device node of a newc ("070701") archive, the
// format the kernel unpacks an initramfs from.
type cpioEntry struct {
	Name         string
	Mode         uint32 // type and permission bits, e.g. 0o100755
	Data         []byte
	RMajor, RMin uint32 // device numbers for character devices
}

// writeCPIO writes entries as a newc archive ending in the TRAILER!!! entry.
func writeCPIO(w io.Writer, entries []cpioEntry) error {
	pad := func(n int) []byte { return make([]byte, (4-n%4)%4) }
	all := append(entries, cpioEntry{Name: "TRAILER!!!"})
	for i, e := range all {
		nlink := 1
		if e.Mode&0o170000 == 0o040000 {
			nlink = 2
		}
		hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			i+1, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.RMajor, e.RMin, len(e.Name)+1, 0)
		name := e.Name + "\x00"
		for _, b := range [][]byte{[]byte(hdr), []byte(name), pad(len(hdr) + len(name)), e.Data, pad(len(e.Data))} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

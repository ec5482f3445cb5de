package hardening

import (
	"io/fs"
	"syscall"
)

// ownerOf returns a file's uid and gid.
func ownerOf(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

package daemon

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStoreFiles: the sockets arrive at NOTIFY_SOCKET as SCM_RIGHTS with
// FDSTORE=1 and their name, after a FDSTOREREMOVE of that name.
func TestStoreFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	mgr, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	u, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	defer u.Close()
	f, _ := u.File()
	defer f.Close()
	if err := StoreFiles("udp", []*os.File{f}); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 256), make([]byte, 256)
	n, _, _, _, _ := mgr.ReadMsgUnix(buf, oob)
	if got := string(buf[:n]); got != "FDSTOREREMOVE=1\nFDNAME=udp" {
		t.Fatalf("first message %q", got)
	}
	n, oobn, _, _, _ := mgr.ReadMsgUnix(buf, oob)
	if got := string(buf[:n]); !strings.HasPrefix(got, "FDSTORE=1\nFDNAME=udp") {
		t.Fatalf("second message %q", got)
	}
	msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
	if len(msgs) != 1 {
		t.Fatalf("%d control messages", len(msgs))
	}
	fds, _ := unix.ParseUnixRights(&msgs[0])
	if len(fds) != 1 {
		t.Fatalf("%d descriptors", len(fds))
	}
	unix.Close(fds[0])
}

package controller

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/ebpf/control"
	"github.com/supernode-appliance/appliance/ebpf/filter"
)

// Limits on the control socket, so a stuck or hostile local client cannot
// hold the controller: few connections, short idle time, short lines.
const (
	maxConns    = 16
	idleTimeout = 60 * time.Second
)

// request is one parsed control line.
type request struct {
	cmd    string // force-block is parsed as block with force set
	force  bool
	addr   netip.Addr
	ttl    time.Duration
	reason string
	iface  string // counters of one interface
}

// parseRequest parses one line of the control protocol (see package
// control). Errors are the text of the "error:" answer.
func parseRequest(line string) (request, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return request{}, errors.New("empty request; commands are block, force-block, unblock, list, counters, interfaces, status")
	}
	r := request{cmd: f[0]}
	if r.cmd == "force-block" {
		r.cmd, r.force = "block", true
	}
	switch r.cmd {
	case "block":
		if len(f) < 3 {
			return r, fmt.Errorf("usage: %s <ip> <ttl-seconds> <reason>", f[0])
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil || a.Zone() != "" {
			return r, fmt.Errorf("%q is not an IP address", f[1])
		}
		secs, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || secs <= 0 || secs > 1<<31 {
			return r, fmt.Errorf("%q is not a positive number of seconds", f[2])
		}
		if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
			return r, fmt.Errorf("%s is never a packet's source; give the abusive peer's unicast address", a)
		}
		r.addr, r.ttl = a.Unmap(), time.Duration(secs)*time.Second
		r.reason = strings.Join(f[3:], " ")
		if r.reason == "" {
			r.reason = "-"
		}
	case "unblock":
		if len(f) != 2 {
			return r, errors.New("usage: unblock <ip>")
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil || a.Zone() != "" {
			return r, fmt.Errorf("%q is not an IP address", f[1])
		}
		r.addr = a.Unmap()
	case "counters":
		if len(f) > 2 {
			return r, errors.New("usage: counters [interface]")
		}
		if len(f) == 2 {
			r.iface = f[1]
		}
	case "list", "interfaces", "status":
		if len(f) != 1 {
			return r, fmt.Errorf("usage: %s", r.cmd)
		}
	default:
		return r, fmt.Errorf("unknown command %q; commands are block, force-block, unblock, list, counters, interfaces, status", r.cmd)
	}
	return r, nil
}

// listenControl creates the control socket: mode 0660, owned by root and
// group (empty: the process's group), in a directory it creates if needed.
// Any stale socket from a previous run is replaced.
func listenControl(path, group string) (*net.UnixListener, error) {
	gid := -1
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("control_group %q does not exist; create it or leave control_group empty", group)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the control socket directory: %v", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control_socket %s exists and is not a socket; remove it or choose another path", path)
		}
		// Replace a stale socket, never a live one: its server (another
		// controller with another pin_dir) would become unreachable.
		if live, pid := socketServer(path); live {
			who := "another process"
			if pid > 0 {
				who = fmt.Sprintf("another process (pid %d)", pid)
			}
			return nil, fmt.Errorf("control_socket %s is served by %s; stop it or give this controller its own control_socket", path, who)
		}
		os.Remove(path)
	}
	// Create the socket with no permissions for others from the start, so
	// there is no window in which it is more open than 0660.
	old := unix.Umask(0o117)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on control_socket %s: %v", path, err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, err
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("cannot give control_socket %s to group %s: %v", path, group, err)
		}
	}
	return ln, nil
}

// socketServer reports whether a process accepts connections on the unix
// socket at path, and its PID (SO_PEERCRED) if known.
func socketServer(path string) (bool, int) {
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false, 0
	}
	defer conn.Close()
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		return true, 0
	}
	pid := 0
	raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return true, pid
}

// ServeControl listens on the configured control socket and answers
// requests until ctx ends. It returns once the socket exists.
func (c *Controller) ServeControl(ctx context.Context) error {
	cfg := c.Config()
	ln, err := listenControl(cfg.ControlSocket, cfg.ControlGroup)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.control = ln
	c.mu.Unlock()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		sem := make(chan struct{}, maxConns)
		var wg sync.WaitGroup
		defer wg.Wait()
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				if ctx.Err() == nil {
					c.log.Error("control socket stopped", "err", err)
				}
				return
			}
			select {
			case sem <- struct{}{}:
			default:
				conn.Write([]byte("error: too many control connections\n"))
				conn.Close()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c.serveConn(ctx, conn)
			}()
		}
	}()
	return nil
}

func (c *Controller) serveConn(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cred := peerCred(conn)
	log := c.log
	if cred != nil {
		log = log.With("peer_pid", cred.Pid, "peer_uid", cred.Uid)
	}
	r := bufio.NewReaderSize(conn, control.MaxLine)
	w := bufio.NewWriter(conn)
	for {
		conn.SetDeadline(time.Now().Add(idleTimeout))
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			fmt.Fprintf(w, "error: request longer than %d bytes\n", control.MaxLine)
			w.Flush()
			return
		}
		if err != nil {
			return
		}
		c.handle(log, cred, strings.TrimRight(string(line), "\r\n"), w)
		if w.Flush() != nil {
			return
		}
	}
}

// handle answers one request line into w.
func (c *Controller) handle(log *slog.Logger, cred *unix.Ucred, line string, w *bufio.Writer) {
	req, err := parseRequest(line)
	if err == nil && req.force && !mayForce(cred) {
		err = errors.New("force-block is for operators: run supernode-xdp block -force as root")
	}
	if err == nil {
		err = c.exec(log, req, w)
	}
	cmd := req.cmd
	if req.force {
		cmd = "force-block"
	}
	if _, ok := knownCommands[cmd]; !ok {
		cmd = "unknown"
	}
	if err != nil {
		c.metrics.controlRequests.WithLabelValues(cmd, "error").Inc()
		fmt.Fprintf(w, "error: %s\n", oneLine(err.Error()))
		return
	}
	c.metrics.controlRequests.WithLabelValues(cmd, "ok").Inc()
	w.WriteString("ok\n")
}

var knownCommands = map[string]struct{}{"block": {}, "force-block": {}, "unblock": {}, "list": {}, "counters": {}, "interfaces": {}, "status": {}}

func (c *Controller) exec(log *slog.Logger, req request, w *bufio.Writer) error {
	switch req.cmd {
	case "block":
		p, ttl, err := c.Block(req.addr, req.ttl, req.reason, req.force)
		if err != nil {
			log.Warn("dynamic block refused", "addr", req.addr, "prefix", p, "reason", req.reason, "err", err)
			return err
		}
		c.metrics.blocksAdded.Inc()
		log.Info("dynamic block added", "addr", req.addr, "prefix", p, "ttl", ttl, "asked", req.ttl, "force", req.force, "reason", req.reason)
		fmt.Fprintf(w, "blocked %s %d\n", control.FormatBlock(p), int64(ttl/time.Second))
	case "unblock":
		if err := c.Unblock(req.addr); err != nil {
			return err
		}
		log.Info("dynamic block removed", "addr", req.addr)
	case "list":
		bs, err := c.Blocks()
		if err != nil {
			return err
		}
		now := time.Now()
		for _, b := range bs {
			left := int64((b.Expires.Sub(now) + time.Second - 1) / time.Second)
			fmt.Fprintf(w, "%s %d", control.FormatBlock(b.Prefix), left)
			if b.Reason != "" {
				fmt.Fprintf(w, " %s", b.Reason)
			}
			w.WriteByte('\n')
		}
	case "counters":
		var ks []filter.Counter
		var err error
		if req.iface != "" {
			ks, err = c.InterfaceCounters(req.iface)
		} else {
			ks, err = c.Counters()
		}
		if err != nil {
			return err
		}
		for _, k := range ks {
			fmt.Fprintf(w, "%s %d %d\n", k.Reason, k.Packets, k.Bytes)
		}
	case "interfaces":
		for _, a := range c.Interfaces() {
			fmt.Fprintf(w, "%s %d %s %d\n", a.Name, a.Index, a.Mode, a.Program)
		}
	case "status":
		for _, kv := range c.Status() {
			fmt.Fprintf(w, "%s %s\n", kv[0], kv[1])
		}
	}
	return nil
}

// peerCred is the connecting process's credentials (SO_PEERCRED): logged
// with every request, so each block can be traced to who asked for it, and
// the test for force-block.
func peerCred(conn *net.UnixConn) *unix.Ucred {
	raw, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) {
		cred, _ = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	return cred
}

// mayForce: a forced block skips the never-block list, so it is for root
// (an operator) or the controller's own user, never for the supernode
// (a DynamicUser in the control group), whose reports may be spoofed.
func mayForce(cred *unix.Ucred) bool {
	return cred != nil && (cred.Uid == 0 || int(cred.Uid) == os.Getuid())
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

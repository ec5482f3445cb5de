package tools

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// LockAptCache takes the shared apt cache (dir) for one mmdebstrap run.
// Its sync-in hook tars the directory while another build's sync-out may be
// writing into it, and tar then fails with "file changed as we read it";
// so concurrent builds take turns for the bootstrap, and only for it. wait
// is told once when another build holds the cache. The lock is a flock on
// the file dir+".lock" beside the cache (inside it, the hooks would copy
// it into the image root): it dies with the process, so a killed build
// never leaves it held.
func LockAptCache(ctx context.Context, dir string, wait func()) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return Lock(ctx, dir+".lock", wait)
}

// Lock takes an exclusive flock on the file path (created if missing),
// polling until it is free or ctx is done; wait is told once when another
// process holds it. The lock dies with the process.
func Lock(ctx context.Context, path string, wait func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	told := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if err != unix.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s: %v", path, err)
		}
		if !told && wait != nil {
			wait()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

package tools

import (
	"context"
	"testing"
	"time"
)

func TestLockAptCacheTakesTurns(t *testing.T) {
	dir := t.TempDir()
	unlock, err := LockAptCache(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{}, 1)
	got := make(chan func(), 1)
	go func() {
		u, err := LockAptCache(context.Background(), dir, func() { waited <- struct{}{} })
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("a second build did not wait for the cache")
	}
	select {
	case <-got:
		t.Fatal("a second build took the cache while the first held it")
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("the second build never got the cache after the first let go")
	}
	// A cancelled wait gives up with the context's error.
	unlock, _ = LockAptCache(context.Background(), dir, nil)
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := LockAptCache(ctx, dir, nil); err != context.DeadlineExceeded {
		t.Fatalf("cancelled wait: %v", err)
	}
}

package fleet

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
)

// memberlistLog turns memberlist's "[LEVEL] memberlist: text" lines into
// structured records at a fitting level, and counts gossip that failed to
// decrypt (a member with the wrong key, or a stranger) as a drop, so an
// operator sees it in the metrics without reading debug logs.
type memberlistLog struct {
	log *slog.Logger
	met *metrics
}

func (w memberlistLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(bytes.TrimRight(p, "\n")))
	level := slog.LevelDebug
	switch {
	case strings.HasPrefix(line, "[ERR]"), strings.HasPrefix(line, "[WARN]"):
		// Network trouble is expected in a fleet (dead members, rejoin
		// attempts): worth a warning, never an error of this process.
		level = slog.LevelWarn
	case strings.HasPrefix(line, "[INFO]"):
		level = slog.LevelInfo
	}
	if i := strings.Index(line, "memberlist: "); i >= 0 {
		line = line[i+len("memberlist: "):]
	}
	if strings.Contains(line, "decrypt") {
		w.met.dropped.WithLabelValues(dropGossipDecrypt).Inc()
	}
	w.log.Log(context.Background(), level, line, "component", "memberlist")
	return len(p), nil
}

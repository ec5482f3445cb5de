package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// journalHandler writes slog records as native journal entries, so
// `journalctl -o verbose` shows every attribute as its own field
// (upper-cased, as journald requires) and priorities map to syslog levels.
type journalHandler struct {
	level  slog.Level
	attrs  []slog.Attr
	prefix string
}

func (h *journalHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *journalHandler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{}
	var text strings.Builder
	text.WriteString(r.Message)
	add := func(a slog.Attr) {
		key := h.prefix + a.Key
		val := a.Value.Resolve().String()
		vars[journalField(key)] = val
		fmt.Fprintf(&text, " %s=%s", key, val)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	return journal.Send(text.String(), priority(r.Level), vars)
}

func (h *journalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &n
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	default:
		return journal.PriDebug
	}
}

// journalField maps an attribute key to a valid journal field name:
// upper-case letters, digits and underscores, not starting with one.
func journalField(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	s := strings.TrimLeft(string(b), "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "F" + s
	}
	return s
}

package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestJournalField(t *testing.T) {
	for in, want := range map[string]string{"peer": "PEER", "src.addr": "SRC_ADDR", "_x": "X", "9lives": "F9LIVES"} {
		if got := journalField(in); got != want {
			t.Errorf("journalField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServeMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "things"})
	reg.MustRegister(c)
	c.Add(3)
	addr, err := ServeMetrics(ctx, "127.0.0.1:0", reg, NewLogger(false))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "test_things_total 3") {
		t.Errorf("metric missing from output:\n%s", body)
	}
	if _, err := ServeMetrics(ctx, "256.0.0.1:1", reg, NewLogger(false)); err == nil || !strings.Contains(err.Error(), "metrics_listen") {
		t.Errorf("bad address error = %v", err)
	}
}

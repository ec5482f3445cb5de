package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"
)

// Source labels: every merged metric carries daemon="<one of these>".
const (
	SourceSupernode = "supernode"
	SourceXDP       = "supernode-xdp"
	SourceAudit     = "appliance-audit"
	SourceSelf      = "appliance-mgmt"
)

// maxScrape bounds what one source may return (the daemons' own output is
// a few hundred kilobytes at most).
const maxScrape = 8 << 20

// Server merges the sources into one exposition.
type Server struct {
	cfg    Config
	log    *slog.Logger
	reg    *prometheus.Registry
	client *http.Client

	up      *prometheus.GaugeVec
	refused prometheus.Counter
}

// NewServer builds the handler side; reg holds appliance-mgmt's own
// metrics (build info included, see internal/daemon.NewRegistry).
func NewServer(cfg Config, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	s := &Server{
		cfg: cfg, log: log, reg: reg,
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}},
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "appliance_mgmt_source_up", Help: "1 if the last scrape of the source succeeded.",
		}, []string{"source"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "appliance_mgmt_refused_connections_total", Help: "Connections closed because their source is outside management_allow.",
		}),
	}
	for _, c := range []prometheus.Collector{s.up, s.refused} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Handler serves /metrics (everything, merged) and /healthz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	type result struct {
		source string
		fams   map[string]*dto.MetricFamily
		err    error
	}
	jobs := map[string]func() (map[string]*dto.MetricFamily, error){
		SourceSupernode: func() (map[string]*dto.MetricFamily, error) { return s.scrapeURL(ctx, s.cfg.SupernodeURL) },
		SourceXDP:       func() (map[string]*dto.MetricFamily, error) { return s.scrapeURL(ctx, s.cfg.XDPURL) },
		SourceAudit:     s.scrapeAudit,
	}
	results := make(chan result, len(jobs))
	var wg sync.WaitGroup
	for src, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := job()
			results <- result{src, f, err}
		}()
	}
	wg.Wait()
	close(results)
	merged := map[string]*dto.MetricFamily{}
	for res := range results {
		if res.err != nil {
			s.up.WithLabelValues(res.source).Set(0)
			s.log.Warn("scrape failed", "source", res.source, "err", res.err)
			continue
		}
		s.up.WithLabelValues(res.source).Set(1)
		merge(merged, res.fams, res.source)
	}
	own, err := s.reg.Gather()
	if err != nil {
		s.log.Warn("own metrics", "err", err)
	}
	ownMap := map[string]*dto.MetricFamily{}
	for _, f := range own {
		ownMap[f.GetName()] = f
	}
	merge(merged, ownMap, SourceSelf)

	names := make([]string, 0, len(merged))
	for n := range merged {
		names = append(names, n)
	}
	sort.Strings(names)
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	for _, n := range names {
		if err := enc.Encode(merged[n]); err != nil {
			s.log.Warn("encode", "family", n, "err", err)
			return
		}
	}
}

// merge adds fams to into, each metric labelled daemon=source. A family
// whose type disagrees with one already merged is skipped (logged by
// nobody: it cannot happen between the appliance's own daemons).
func merge(into, fams map[string]*dto.MetricFamily, source string) {
	for name, f := range fams {
		f = proto.Clone(f).(*dto.MetricFamily)
		for _, m := range f.Metric {
			labels := m.Label[:0]
			for _, l := range m.Label {
				if l.GetName() != "daemon" {
					labels = append(labels, l)
				}
			}
			m.Label = append(labels, &dto.LabelPair{Name: proto.String("daemon"), Value: proto.String(source)})
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		prev, ok := into[name]
		switch {
		case !ok:
			into[name] = f
		case prev.GetType() == f.GetType():
			prev.Metric = append(prev.Metric, f.Metric...)
		}
	}
}

func parseText(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

func (s *Server) scrapeURL(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return parseText(io.LimitReader(resp.Body, maxScrape))
}

// scrapeAudit reads the live audit's audit.prom and turns report.json's
// results into appliance_audit_control_status{control,severity,status} 1,
// one per control (audit.prom names only the failing ones).
func (s *Server) scrapeAudit() (map[string]*dto.MetricFamily, error) {
	b, err := readLimited(s.cfg.AuditProm)
	if err != nil {
		return nil, err
	}
	fams, err := parseText(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.cfg.AuditProm, err)
	}
	rb, err := readLimited(s.cfg.AuditReport)
	if errors.Is(err, os.ErrNotExist) {
		return fams, nil
	}
	if err != nil {
		return nil, err
	}
	var rep struct {
		Results []struct {
			Control  string `json:"control"`
			Severity string `json:"severity"`
			Status   string `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(rb, &rep); err != nil {
		return nil, fmt.Errorf("%s: %v", s.cfg.AuditReport, err)
	}
	f := &dto.MetricFamily{
		Name: proto.String("appliance_audit_control_status"),
		Help: proto.String("1 per control of the live audit, labelled with its status (pass, fail, exception, error, ...)."),
		Type: dto.MetricType_GAUGE.Enum(),
	}
	for _, r := range rep.Results {
		f.Metric = append(f.Metric, &dto.Metric{
			Label: []*dto.LabelPair{
				{Name: proto.String("control"), Value: proto.String(r.Control)},
				{Name: proto.String("severity"), Value: proto.String(r.Severity)},
				{Name: proto.String("status"), Value: proto.String(r.Status)},
			},
			Gauge: &dto.Gauge{Value: proto.Float64(1)},
		})
	}
	fams[f.GetName()] = f
	return fams, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxScrape))
}

// Listen opens the management listener: TCP on cfg.Listen, closing every
// connection from outside management_allow before a byte is read (nftables
// already drops them; this holds if the firewall was not loaded), then TLS
// if configured.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("management_listen %s: %v; pick a free address of this host", s.cfg.Listen, err)
	}
	var l net.Listener = &allowListener{Listener: ln, allow: s.cfg.Allow, refused: s.refused, log: s.log}
	if t := s.cfg.TLS(); t != nil {
		l = newTLSListener(l, t)
	}
	return l, nil
}

// Serve serves until ctx ends.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type allowListener struct {
	net.Listener
	allow   []netip.Prefix
	refused prometheus.Counter
	log     *slog.Logger
}

func (l *allowListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil && Allowed(l.allow, ap.Addr()) {
			return c, nil
		}
		l.refused.Inc()
		l.log.Debug("refused a connection from outside management_allow", "remote", c.RemoteAddr().String())
		c.Close()
	}
}

// Allowed reports whether a is in one of ps (IPv4-mapped IPv6 as IPv4).
func Allowed(ps []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

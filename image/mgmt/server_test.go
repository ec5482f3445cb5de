package mgmt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/hardening"
	"github.com/supernode-appliance/appliance/image/mgmt"
	"github.com/supernode-appliance/appliance/internal/daemon"
	"github.com/supernode-appliance/appliance/supernode/server"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// sources runs the real supernode (server and metrics listener, as the
// daemon wires them) and answers one STUN Binding so its counters move, a
// stand-in for the XDP controller's loopback endpoint (its metric names),
// and writes the live audit's files with hardening's own writers.
func sources(t *testing.T) mgmt.Config {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	reg := daemon.NewRegistry()
	scfg := server.Defaults()
	scfg.Listen = []string{"127.0.0.1:0"}
	srv, err := server.New(scfg, quiet, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	go srv.Serve(ctx)
	maddr, err := daemon.ServeMetrics(ctx, "127.0.0.1:0", reg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", srv.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1500)); err != nil {
		t.Fatalf("the supernode did not answer a Binding request: %v", err)
	}

	xdp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# HELP supernode_xdp_packets_total Packets by verdict reason.\n# TYPE supernode_xdp_packets_total counter\n"+
			"supernode_xdp_packets_total{interface=\"eth0\",reason=\"drop_port_closed\"} 12\n"+
			"supernode_xdp_packets_total{interface=\"eth0\",reason=\"pass_service\"} 40\n"+
			"# HELP supernode_build_info x\n# TYPE supernode_build_info gauge\nsupernode_build_info{commit=\"c\",root_hash=\"\",version=\"v\"} 1\n")
	}))
	t.Cleanup(xdp.Close)

	dir := t.TempDir()
	rep := &hardening.Report{Mode: "live", ProfileVersion: "1", Started: time.Unix(1700000000, 0),
		Counts: map[hardening.Status]int{hardening.Pass: 1, hardening.Fail: 1},
		Results: []hardening.Result{
			{Control: "net-nftables-default-deny", Severity: "high", Status: hardening.Pass},
			{Control: "net-xdp-attached", Severity: "high", Status: hardening.Fail},
		}}
	f, err := os.Create(filepath.Join(dir, "audit.prom"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMetrics(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	cfg := mgmt.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	cfg.SupernodeURL = "http://" + maddr.String() + "/metrics"
	cfg.XDPURL = xdp.URL + "/metrics"
	cfg.AuditProm = filepath.Join(dir, "audit.prom")
	cfg.AuditReport = filepath.Join(dir, "report.json")
	return cfg
}

// start validates cfg and serves it; it returns the listener's address.
func start(t *testing.T, cfg mgmt.Config) string {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := mgmt.NewServer(cfg, daemon.NewRegistry(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go s.Serve(ctx, l)
	return l.Addr().String()
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestServesEverySource(t *testing.T) {
	addr := start(t, sources(t))
	body, err := get(http.DefaultClient, "http://"+addr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`supernode_requests_total{daemon="supernode",`,                                                      // the real supernode's counters
		`supernode_xdp_packets_total{daemon="supernode-xdp",interface="eth0",reason="drop_port_closed"} 12`, // XDP drop reasons
		`appliance_audit_control_status{control="net-xdp-attached",daemon="appliance-audit",severity="high",status="fail"} 1`,
		`appliance_audit_control_status{control="net-nftables-default-deny",daemon="appliance-audit",severity="high",status="pass"} 1`,
		`appliance_audit_controls{daemon="appliance-audit",mode="live",profile_version="1",status="fail"} 1`,
		`appliance_mgmt_source_up{daemon="appliance-mgmt",source="supernode"} 1`,
		`appliance_mgmt_source_up{daemon="appliance-mgmt",source="supernode-xdp"} 1`,
		`appliance_mgmt_source_up{daemon="appliance-mgmt",source="appliance-audit"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	// supernode_build_info once per daemon, one family.
	for _, d := range []string{"supernode", "supernode-xdp", "appliance-mgmt"} {
		if !strings.Contains(body, `daemon="`+d+`"`) || !hasBuildInfo(body, d) {
			t.Errorf("no supernode_build_info for %s", d)
		}
	}
	if n := strings.Count(body, "# TYPE supernode_build_info gauge"); n != 1 {
		t.Errorf("supernode_build_info declared %d times; the merge must keep one family", n)
	}
}

func hasBuildInfo(body, d string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "supernode_build_info{") && strings.Contains(l, `daemon="`+d+`"`) && strings.Contains(l, "root_hash=") && strings.Contains(l, "version=") && strings.Contains(l, "commit=") {
			return true
		}
	}
	return false
}

// A source that answers garbage or is down is reported, the rest served.
func TestBadSourceIsReportedNotFatal(t *testing.T) {
	cfg := sources(t)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "supernode_x{{{ not prometheus\n\x00\xff")
	}))
	t.Cleanup(bad.Close)
	cfg.XDPURL = bad.URL
	cfg.AuditProm = filepath.Join(t.TempDir(), "missing.prom")
	body, err := get(http.DefaultClient, "http://"+start(t, cfg)+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`appliance_mgmt_source_up{daemon="appliance-mgmt",source="supernode-xdp"} 0`,
		`appliance_mgmt_source_up{daemon="appliance-mgmt",source="appliance-audit"} 0`,
		`supernode_requests_total{daemon="supernode",`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

func TestSourceOutsideAllowRefused(t *testing.T) {
	cfg := sources(t)
	cfg.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	addr := start(t, cfg)
	if body, err := get(http.DefaultClient, "http://"+addr+"/metrics"); err == nil {
		t.Fatalf("a client from 127.0.0.1 outside management_allow 10.0.0.0/8 was served:\n%.200s", body)
	}
	if mgmt.Allowed(cfg.Allow, netip.MustParseAddr("127.0.0.1")) || !mgmt.Allowed(cfg.Allow, netip.MustParseAddr("::ffff:10.1.2.3")) {
		t.Error("Allowed disagrees with management_allow")
	}
}

type pki struct {
	dir                   string
	caPEM, certPEM        []byte
	keyPEM                []byte
	client, strangeClient tls.Certificate
	pool                  *x509.CertPool
}

func newPKI(t *testing.T) pki {
	t.Helper()
	ca, caKey := testenv.NewCert(t, "mgmt test CA", nil, nil, true, nil)
	otherCA, otherKey := testenv.NewCert(t, "someone else's CA", nil, nil, true, nil)
	srv, srvKey := testenv.NewCert(t, "appliance", ca, caKey, false, []net.IP{net.IPv4(127, 0, 0, 1)})
	cli, cliKey := testenv.NewCert(t, "prometheus", ca, caKey, false, nil)
	strange, strangeKey := testenv.NewCert(t, "prometheus", otherCA, otherKey, false, nil)
	p := pki{dir: t.TempDir(), caPEM: pemOf("CERTIFICATE", ca.Raw), certPEM: pemOf("CERTIFICATE", srv.Raw), keyPEM: keyPEM(t, srvKey)}
	p.client = tls.Certificate{Certificate: [][]byte{cli.Raw}, PrivateKey: cliKey}
	p.strangeClient = tls.Certificate{Certificate: [][]byte{strange.Raw}, PrivateKey: strangeKey}
	p.pool = x509.NewCertPool()
	p.pool.AddCert(ca)
	for name, b := range map[string][]byte{"ca.pem": p.caPEM, "cert.pem": p.certPEM, "key.pem": p.keyPEM} {
		if err := os.WriteFile(filepath.Join(p.dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func pemOf(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("PRIVATE KEY", b)
}

func tlsClient(p pki, certs ...tls.Certificate) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, Certificates: certs}}}
}

func TestTLSWithClientCertificates(t *testing.T) {
	p := newPKI(t)
	cfg := sources(t)
	// Files for the server pair, the PEM itself (a credential's content)
	// for the CA: both forms are accepted.
	cfg.TLSCert, cfg.TLSKey, cfg.ClientCA = filepath.Join(p.dir, "cert.pem"), filepath.Join(p.dir, "key.pem"), string(p.caPEM)
	url := "https://" + start(t, cfg) + "/metrics"

	body, err := get(tlsClient(p, p.client), url)
	if err != nil {
		t.Fatalf("a client with a certificate of the client CA was refused: %v", err)
	}
	if !strings.Contains(body, `supernode_requests_total{daemon="supernode",`) {
		t.Error("served over TLS without the supernode's metrics")
	}
	if _, err := get(tlsClient(p), url); err == nil {
		t.Error("a client without a certificate was served")
	}
	if _, err := get(tlsClient(p, p.strangeClient), url); err == nil {
		t.Error("a client whose certificate another CA signed was served")
	}
	// Go's TLS server answers plain HTTP with a 400 naming HTTPS; no metrics.
	if body, err := get(http.DefaultClient, strings.Replace(url, "https:", "http:", 1)); err == nil && strings.Contains(body, "supernode_") {
		t.Error("plain HTTP was served the metrics on the TLS listener")
	}
}

func TestTLSWithoutClientCertificates(t *testing.T) {
	p := newPKI(t)
	cfg := sources(t)
	cfg.TLSCert, cfg.TLSKey = string(p.certPEM), string(p.keyPEM)
	body, err := get(tlsClient(p), "https://"+start(t, cfg)+"/metrics")
	if err != nil || !strings.Contains(body, "supernode_xdp_packets_total") {
		t.Fatalf("TLS without client CA: %v", err)
	}
}

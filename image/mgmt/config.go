// Package mgmt is the appliance's opt-in management listener
// (appliance-mgmt) and the boot oneshot that opens the fleet's and the
// management listener's ports (appliance-firewall).
//
// The management listener is a separate small daemon so the
// internet-facing supernode gains nothing: it scrapes the daemons'
// loopback metrics endpoints and reads the live audit's files, and serves
// them merged on one HTTP(S) endpoint to the management prefixes only.
package mgmt

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/supernode-appliance/appliance/internal/inventory"
)

// Name is the config loader's name: /etc/supernode/appliance-mgmt.conf and
// the systemd credentials appliance-mgmt.conf / appliance-mgmt.<key>.
const Name = "appliance-mgmt"

// DefaultPath is the config file the units name.
const DefaultPath = "/etc/supernode/appliance-mgmt.conf"

// Config is appliance-mgmt.conf.
type Config struct {
	// Listen is host:port of the management listener; empty (the
	// default) = off. The firewall opens only inventory's port.
	Listen string `conf:"management_listen"`
	// Allow are the only source prefixes served (the firewall opens the
	// port to them, and the daemon closes any other connection).
	Allow []netip.Prefix `conf:"management_allow"`
	// TLSCert and TLSKey are the server's certificate chain and key, PEM:
	// a file path, or the PEM itself (a credential's content). Both or
	// neither; neither = plain HTTP.
	TLSCert string `conf:"management_tls_cert"`
	TLSKey  string `conf:"management_tls_key"`
	// ClientCA (PEM, path or content) makes client certificates signed
	// by it mandatory.
	ClientCA string `conf:"management_client_ca"`
	// What is scraped: the daemons' loopback endpoints and the live
	// audit's files (hardening/systemd/appliance-audit.service).
	SupernodeURL string `conf:"supernode_metrics_url"`
	XDPURL       string `conf:"xdp_metrics_url"`
	AuditProm    string `conf:"audit_metrics_file"`
	AuditReport  string `conf:"audit_report_file"`
	Debug        bool   `conf:"debug"`
	// Log shipping (appliance-logship, systemd-netlogd): the collector as
	// PROTOCOL://IP:PORT (udp, tcp, tls, dtls; empty = off), the PEM CA
	// of its certificate (tls and dtls; path or the PEM itself), and
	// rfc5424 (default) or rfc3339. See LogShippingFor.
	LogTarget string `conf:"log_target"`
	LogCA     string `conf:"log_ca"`
	LogFormat string `conf:"log_format"`

	tls *tls.Config // built by Validate
}

// DefaultConfig is the compiled-in configuration: off.
func DefaultConfig() Config {
	return Config{
		SupernodeURL: "http://" + inventory.SupernodeMetrics.Listen() + "/metrics",
		XDPURL:       "http://" + inventory.XDPMetrics.Listen() + "/metrics",
		AuditProm:    "/run/appliance-audit/audit.prom",
		AuditReport:  "/run/appliance-audit/report.json",
	}
}

// Enabled reports whether management_listen is set.
func (c *Config) Enabled() bool { return c.Listen != "" }

// Validate checks the keys and loads the TLS material, so a listener never
// starts half-configured. Each error is one sentence naming key and fix.
func (c *Config) Validate() error {
	c.tls = nil
	if !c.Enabled() {
		if len(c.Allow) > 0 || c.TLSCert != "" || c.TLSKey != "" || c.ClientCA != "" {
			return fmt.Errorf("management_allow or management_tls_* is set but management_listen is not; set management_listen (e.g. 0.0.0.0:%d) or remove them", inventory.ManagementHTTPS.Port)
		}
		return nil
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		return fmt.Errorf("management_listen %q is not host:port; use e.g. 0.0.0.0:%d", c.Listen, inventory.ManagementHTTPS.Port)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("management_listen %q: the host must be an IP address (or empty for all), e.g. 0.0.0.0:%d", c.Listen, inventory.ManagementHTTPS.Port)
		}
	}
	if len(c.Allow) == 0 {
		return fmt.Errorf("management_listen is set but management_allow is empty; list the prefixes of your monitoring hosts, e.g. management_allow = 192.0.2.0/28")
	}
	if err := CheckPrefixes("management_allow", c.Allow); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("management_tls_cert and management_tls_key go together; set both (PEM files or credentials) or neither for plain HTTP")
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		return fmt.Errorf("management_client_ca needs TLS; set management_tls_cert and management_tls_key too")
	}
	if c.TLSCert == "" {
		return nil
	}
	certPEM, err := material("management_tls_cert", c.TLSCert)
	if err != nil {
		return err
	}
	keyPEM, err := material("management_tls_key", c.TLSKey)
	if err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("management_tls_cert and management_tls_key do not form a key pair (%v); give the PEM certificate chain and its unencrypted PEM private key", err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.ClientCA != "" {
		caPEM, err := material("management_client_ca", c.ClientCA)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return fmt.Errorf("management_client_ca holds no PEM certificate; give the CA that signs your scrapers' client certificates")
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	c.tls = tc
	return nil
}

// TLS is the server TLS configuration Validate built, nil for plain HTTP.
func (c *Config) TLS() *tls.Config { return c.tls }

// material is a PEM value: the PEM itself (from a credential) or a path.
func material(key, v string) ([]byte, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read %s (%v); give a readable PEM file or the PEM itself as the credential appliance-mgmt.%s", key, v, pathErr(err), key)
	}
	return b, nil
}

func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Narrowest prefix lengths a gate accepts: anything wider opens a port to
// a good part of the internet, which an allow list exists to prevent.
const (
	MinBits4 = 8
	MinBits6 = 16
)

// CheckPrefixes refuses invalid, zoned and too wide prefixes (0.0.0.0/0,
// ::/0 and anything shorter than /8 or /16) for key.
func CheckPrefixes(key string, ps []netip.Prefix) error {
	for _, p := range ps {
		if !p.IsValid() || p.Addr().Zone() != "" {
			return fmt.Errorf("%s: %v is not a valid CIDR prefix; write it as ADDRESS/BITS, e.g. 10.0.0.0/24", key, p)
		}
		a := p.Addr()
		if a.Is4In6() {
			return fmt.Errorf("%s: %v is an IPv4-mapped IPv6 prefix; write the IPv4 prefix instead", key, p)
		}
		if min := map[bool]int{true: MinBits4, false: MinBits6}[a.Is4()]; p.Bits() < min {
			return fmt.Errorf("%s: %v would open the port to a large part of the internet; list your own prefixes (at least /%d), the port is open to nothing else", key, p, min)
		}
	}
	return nil
}

package mgmt

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Log shipping: systemd-netlogd (a systemd project, packaged in Debian)
// forwards the journal as RFC 5424 syslog over UDP, TCP, TLS or DTLS.
// appliance-logship (`appliance-mgmt logship`) turns the log_* keys of
// appliance-mgmt.conf into a netlogd drop-in; netlogd's unit runs only
// when that drop-in exists (hardening control svc-netlogd-sandbox).
const (
	// NetlogdDropIn is the drop-in netlogd reads (it searches
	// /run/systemd/netlogd.conf.d) and the condition of its unit.
	NetlogdDropIn = "/run/systemd/netlogd.conf.d/appliance.conf"
	// LogCAFile is where the collector's CA is written for netlogd.
	LogCAFile = "/run/appliance-logship/ca.pem"
)

// LogShipping is the validated log_* configuration; the zero value is off.
type LogShipping struct {
	Protocol string         // udp, tcp, tls or dtls
	Addr     netip.AddrPort // the collector
	CA       []byte         // PEM, tls and dtls only
	Format   string         // rfc5424 or rfc3339
}

// Enabled reports whether a collector is configured.
func (l LogShipping) Enabled() bool { return l.Protocol != "" }

// Encrypted reports whether the transport is TLS or DTLS.
func (l LogShipping) Encrypted() bool { return l.Protocol == "tls" || l.Protocol == "dtls" }

// LogShippingFor validates the log_* keys of c. Each error is one sentence
// naming the key and the fix. Certificates are always verified: TLS and
// DTLS need log_ca, and a clear-text transport refuses one (it would
// suggest a protection that is not there).
func LogShippingFor(c Config) (LogShipping, error) {
	if c.LogTarget == "" {
		if c.LogCA != "" || c.LogFormat != "" {
			return LogShipping{}, fmt.Errorf("log_ca or log_format is set but log_target is not; set log_target (e.g. tls://192.0.2.10:6514) or remove them")
		}
		return LogShipping{}, nil
	}
	proto, ap, err := parseLogTarget(c.LogTarget)
	if err != nil {
		return LogShipping{}, err
	}
	l := LogShipping{Protocol: proto, Addr: ap, Format: "rfc5424"}
	switch c.LogFormat {
	case "", "rfc5424":
	case "rfc3339":
		l.Format = c.LogFormat
	default:
		return LogShipping{}, fmt.Errorf("log_format %q is not rfc5424 or rfc3339; leave it unset for RFC 5424", c.LogFormat)
	}
	if !l.Encrypted() {
		if c.LogCA != "" {
			return LogShipping{}, fmt.Errorf("log_ca is set but log_target %q is not encrypted; use tls:// or dtls://, or remove log_ca", c.LogTarget)
		}
		return l, nil
	}
	if c.LogCA == "" {
		return LogShipping{}, fmt.Errorf("log_target %q uses %s but log_ca is empty; give the PEM CA certificate that signs the collector's certificate (it is always verified)", c.LogTarget, proto)
	}
	ca, err := material("log_ca", c.LogCA)
	if err != nil {
		return LogShipping{}, err
	}
	if l.CA, err = certificatesOnly(ca); err != nil {
		return LogShipping{}, fmt.Errorf("log_ca: %v; give the collector CA's PEM certificate", err)
	}
	return l, nil
}

// parseLogTarget splits log_target into protocol and collector, refusing
// what cannot be a collector (one sentence naming the key and the fix).
func parseLogTarget(target string) (string, netip.AddrPort, error) {
	example := "e.g. tls://192.0.2.10:6514, tcp://192.0.2.10:514, udp://[2001:db8::10]:514"
	proto, rest, ok := strings.Cut(target, "://")
	switch {
	case !ok:
		return "", netip.AddrPort{}, fmt.Errorf("log_target %q has no protocol; write PROTOCOL://IP:PORT, %s", target, example)
	case proto != "udp" && proto != "tcp" && proto != "tls" && proto != "dtls":
		return "", netip.AddrPort{}, fmt.Errorf("log_target %q: protocol %q is not one of udp, tcp, tls, dtls; %s", target, proto, example)
	}
	ap, err := netip.ParseAddrPort(rest)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		return "", netip.AddrPort{}, fmt.Errorf("log_target %q: %q is not IP:PORT (an address, not a host name, and a port); %s", target, rest, example)
	}
	a := ap.Addr()
	if a.IsUnspecified() || a.IsLoopback() || a.Is4In6() || (a.IsMulticast() && proto != "udp") {
		return "", netip.AddrPort{}, fmt.Errorf("log_target %q: %v cannot be a collector (unspecified, loopback, IPv4-mapped, or multicast over a stream); give the collector's own address", target, a)
	}
	return proto, ap, nil
}

// LogCollector is the collector log_target names, for the firewall step,
// which is given log_target alone (never log_ca): false when logs are not
// shipped or log_target is invalid (appliance-logship reports that).
func LogCollector(c Config) (netip.Addr, bool) {
	if c.LogTarget == "" {
		return netip.Addr{}, false
	}
	_, ap, err := parseLogTarget(c.LogTarget)
	return ap.Addr(), err == nil
}

// certificatesOnly re-encodes the CERTIFICATE blocks of b after parsing
// each, so only certificates (never a key pasted by mistake, never text
// between blocks) reach the file netlogd reads.
func certificatesOnly(b []byte) ([]byte, error) {
	var out []byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("it holds a %s block", blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("a certificate does not parse (%v)", err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: blk.Bytes})...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("it holds no PEM certificate")
	}
	return out, nil
}

// DropIn is the netlogd configuration for l. Every value comes from a
// parsed address or a fixed word, so nothing from the credential reaches
// the file as text.
func (l LogShipping) DropIn() string {
	var b strings.Builder
	b.WriteString("# Written by appliance-logship (appliance-mgmt logship) from the log_*\n# keys of appliance-mgmt.conf; see image/mgmt/README.md.\n[Network]\n")
	fmt.Fprintf(&b, "Address=%s\nProtocol=%s\nLogFormat=%s\n", l.Addr, l.Protocol, l.Format)
	if l.Encrypted() {
		fmt.Fprintf(&b, "TLSCertificateAuthMode=deny\nTLSServerCertificate=%s\n", LogCAFile)
	}
	b.WriteString("ConnectionRetrySec=5s\n")
	if l.Protocol != "udp" && l.Protocol != "dtls" {
		b.WriteString("KeepAlive=yes\nKeepAliveTimeSec=60\nKeepAliveIntervalSec=20\nKeepAliveProbes=3\n")
	}
	return b.String()
}

// Apply writes the drop-in and the CA (each replaced atomically), or
// removes both when l is off, so netlogd's unit condition follows the
// configuration.
func (l LogShipping) Apply(dropIn, caFile string) error {
	if !l.Enabled() {
		for _, p := range []string{dropIn, caFile} {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	if l.Encrypted() {
		if err := writeAtomic(caFile, l.CA); err != nil {
			return err
		}
	}
	return writeAtomic(dropIn, []byte(l.DropIn()))
}

// writeAtomic writes b to path, mode 0644 whatever the umask (other users'
// daemons read these files, and none is a secret: the XDP overlay, a CA
// certificate, a collector address), through a temporary file and rename.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

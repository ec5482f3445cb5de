package mgmt_test

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/mgmt"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

// Every log_* value comes from whoever configures the appliance (a
// credential, the configuration partition, cloud user data): each bad one
// is refused with a sentence naming the key, and nothing of it reaches
// netlogd's file as text.
func TestLogShippingRefusesBadValues(t *testing.T) {
	ca := string(testenv.NewPKI(t).CAPEM)
	keyBlock := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
	for _, tc := range []struct {
		c    mgmt.Config
		want string
	}{
		{mgmt.Config{LogCA: ca}, "log_target is not"},
		{mgmt.Config{LogFormat: "rfc5424"}, "log_target is not"},
		{mgmt.Config{LogTarget: "192.0.2.10:514"}, "has no protocol"},
		{mgmt.Config{LogTarget: "http://192.0.2.10:514"}, "not one of udp, tcp, tls, dtls"},
		{mgmt.Config{LogTarget: "tcp://logs.example.net:514"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "tcp://192.0.2.10"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "tcp://192.0.2.10:0"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "tcp://192.0.2.10:514\nAddress=203.0.113.1:514"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "tcp://192.0.2.10:514 Protocol=udp"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "udp://[fe80::1%eth0]:514"}, "not IP:PORT"},
		{mgmt.Config{LogTarget: "tcp://0.0.0.0:514"}, "cannot be a collector"},
		{mgmt.Config{LogTarget: "tcp://127.0.0.1:514"}, "cannot be a collector"},
		{mgmt.Config{LogTarget: "tcp://[::ffff:192.0.2.10]:514"}, "cannot be a collector"},
		{mgmt.Config{LogTarget: "tcp://239.0.0.1:514"}, "cannot be a collector"},
		{mgmt.Config{LogTarget: "udp://192.0.2.10:514", LogFormat: "json"}, "log_format"},
		{mgmt.Config{LogTarget: "udp://192.0.2.10:514", LogCA: ca}, "is not encrypted"},
		{mgmt.Config{LogTarget: "tls://192.0.2.10:6514"}, "log_ca is empty"},
		{mgmt.Config{LogTarget: "tls://192.0.2.10:6514", LogCA: "/nonexistent/ca.pem"}, "log_ca: cannot read"},
		{mgmt.Config{LogTarget: "tls://192.0.2.10:6514", LogCA: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"}, "log_ca"},
		{mgmt.Config{LogTarget: "dtls://192.0.2.10:4433", LogCA: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "does not parse"},
		{mgmt.Config{LogTarget: "tls://192.0.2.10:6514", LogCA: ca + keyBlock}, "PRIVATE KEY block"},
	} {
		_, err := mgmt.LogShippingFor(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+q: error %v, want one naming %q", tc.c.LogTarget, err, tc.want)
		}
	}
}

func TestLogShippingDropIn(t *testing.T) {
	pki := testenv.NewPKI(t)
	// Text around the PEM block never reaches the CA file.
	junk := string(pki.CAPEM) + "\nExtraLine=1\n[Network]\nAddress=203.0.113.1:1\n"
	for _, tc := range []struct {
		c       mgmt.Config
		want    []string
		without []string
	}{
		{mgmt.Config{LogTarget: "tls://192.0.2.10:6514", LogCA: junk},
			[]string{"Address=192.0.2.10:6514\n", "Protocol=tls\n", "LogFormat=rfc5424\n", "TLSCertificateAuthMode=deny\n", "TLSServerCertificate=" + mgmt.LogCAFile + "\n", "KeepAlive=yes\n"},
			[]string{"203.0.113.1", "ExtraLine"}},
		{mgmt.Config{LogTarget: "dtls://[2001:db8::10]:4433", LogCA: string(pki.CAPEM), LogFormat: "rfc3339"},
			[]string{"Address=[2001:db8::10]:4433\n", "Protocol=dtls\n", "LogFormat=rfc3339\n", "TLSCertificateAuthMode=deny\n"},
			[]string{"KeepAlive"}},
		{mgmt.Config{LogTarget: "udp://239.0.0.1:6000"},
			[]string{"Address=239.0.0.1:6000\n", "Protocol=udp\n"},
			[]string{"TLS"}},
	} {
		l, err := mgmt.LogShippingFor(tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.c.LogTarget, err)
		}
		d := l.DropIn()
		for _, w := range tc.want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: drop-in lacks %q:\n%s", tc.c.LogTarget, w, d)
			}
		}
		for _, w := range tc.without {
			if strings.Contains(d, w) {
				t.Errorf("%s: drop-in holds %q:\n%s", tc.c.LogTarget, w, d)
			}
		}
		if l.Encrypted() && (strings.Contains(string(l.CA), "ExtraLine") || strings.Contains(string(l.CA), "Address=")) {
			t.Errorf("the CA file keeps text around the certificate: %q", l.CA)
		}
	}
}

// Apply writes both files, replaces them, and removes both when shipping
// is turned off, so netlogd's unit condition follows the configuration.
func TestLogShippingApply(t *testing.T) {
	dir := t.TempDir()
	dropIn, caFile := filepath.Join(dir, "appliance.conf"), filepath.Join(dir, "ca.pem")
	l, err := mgmt.LogShippingFor(mgmt.Config{LogTarget: "tls://192.0.2.10:6514", LogCA: string(testenv.NewPKI(t, net.IPv4(192, 0, 2, 10)).CAPEM)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(dropIn, caFile); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dropIn, caFile} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", p, st, err)
		}
	}
	if b, _ := os.ReadFile(caFile); string(b) != string(l.CA) {
		t.Error("the CA file differs from the validated CA")
	}
	if err := (mgmt.LogShipping{}).Apply(dropIn, caFile); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("turning shipping off left %v", ents)
	}
	if err := (mgmt.LogShipping{}).Apply(dropIn, caFile); err != nil {
		t.Errorf("off twice: %v", err)
	}
}

func TestLogshipUnitLeastPrivilege(t *testing.T) {
	u := "systemd/appliance-logship.service"
	if got := testenv.UnitLines(t, u, "CapabilityBoundingSet"); len(got) != 1 || got[0] != "" {
		t.Errorf("CapabilityBoundingSet=%q, want empty", got)
	}
	for _, c := range testenv.UnitLines(t, u, "ImportCredential") {
		if c != mgmt.Name+".conf" && !strings.HasPrefix(c, mgmt.Name+".log_") {
			t.Errorf("ImportCredential=%s hands appliance-logship more than the log_* keys", c)
		}
	}
	rt := strings.Fields(strings.Join(testenv.UnitLines(t, u, "RuntimeDirectory"), " "))
	for _, p := range []string{mgmt.NetlogdDropIn, mgmt.LogCAFile} {
		ok := false
		for _, d := range rt {
			ok = ok || filepath.Dir(p) == "/run/"+d
		}
		if !ok {
			t.Errorf("%s is not in RuntimeDirectory=%q", p, rt)
		}
	}
	if got := testenv.UnitLines(t, u, "PrivateNetwork"); len(got) != 1 || got[0] != "yes" {
		t.Errorf("PrivateNetwork=%q", got)
	}
}

// A collector on a private network must get its replies through the XDP
// filter's bogon check: the overlay accepts exactly its address, and
// nothing when logs are not shipped.
func TestOverlayAcceptsTheCollector(t *testing.T) {
	if o := (mgmt.Plan{}).Overlay(); strings.Contains(o, "allow_bogons") {
		t.Errorf("overlay without a collector:\n%s", o)
	}
	p := mgmt.Plan{Collector: netip.MustParsePrefix("10.0.2.2/32")}
	if o := p.Overlay(); !strings.Contains(o, "allow_bogons = 10.0.2.2/32\n") || strings.Contains(o, "\nallow =") {
		t.Errorf("overlay with a collector:\n%s", o)
	}
}

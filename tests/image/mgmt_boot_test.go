package image_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/image/qemu"
	"github.com/supernode-appliance/appliance/tests/testenv"
)

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestManagementListenerAndGatesBoot boots the image with a one-member
// fleet and the management listener configured by SMBIOS credentials, and
// scrapes the listener from the host through QEMU's forward (the guest
// sees the host as 10.0.2.2, inside management_allow). Nothing else opens
// tcp/9443: no allow_bogons credential, so only appliance-firewall's XDP
// overlay lets the private source and port through the filter, and only
// its mgmt4 set lets them through nftables.
//
// The live audit's sysctls in the scrape go through kernel-hardening-checker
// (khcLiveSysctls).
//
// The same boot ships its journal (log_target and log_ca by fw_cfg) to a
// TLS syslog collector in the test, at 10.0.2.2 for the guest: the
// collector's certificate is verified against log_ca, and its private
// address gets through the XDP bogon check only by the overlay.
func TestManagementListenerAndGatesBoot(t *testing.T) {
	testenv.RequireCommands(t, "qemu-system-x86_64")
	dir := testenv.Image(t)
	port := freeTCPPort(t)
	collector := startSyslogCollector(t)
	vm := startVM(t, filepath.Join(dir, "supernode-appliance.qcow2"), qemu.Options{
		FwCfgCredentials: map[string]string{
			"appliance-mgmt.log_target": "tls://10.0.2.2:" + strconv.Itoa(collector.port),
			"appliance-mgmt.log_ca":     string(collector.caPEM),
		},
		HostFwd:      []string{"tcp:127.0.0.1:" + strconv.Itoa(port) + "-:9443"},
		ExtraCmdline: consoleJournal,
		Credentials: map[string]string{
			"supernode.fleet_bind":             "10.0.2.15:7946",
			"supernode.fleet_allow":            "10.0.2.0/24",
			"supernode.fleet_key":              "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
			"appliance-mgmt.management_listen": "0.0.0.0:9443",
			"appliance-mgmt.management_allow":  "10.0.2.0/24",
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	if _, err := vm.WaitConsole(ctx, "management listener ready", "appliance-mgmt firewall:"); err != nil {
		t.Fatal(err)
	}
	if l := testenv.LineWith(vm.Console(), "appliance-mgmt firewall:"); l != "" {
		t.Fatalf("the firewall step failed: %s", l)
	}
	if l := testenv.LineWith(vm.Console(), "fleet ports open to"); !strings.Contains(l, "[10.0.2.0/24]; management port open to [10.0.2.0/24]") {
		t.Errorf("firewall step: %q", l)
	}

	// Scrape until the live audit has written its results (it runs after
	// the supernode); each try is a real round trip through XDP and nft.
	client := &http.Client{Timeout: 20 * time.Second}
	var body string
	for ctx.Err() == nil {
		resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if strings.Contains(body, "appliance_audit_control_status{") && strings.Contains(body, `source_up{daemon="appliance-mgmt",source="supernode"} 1`) {
				break
			}
		}
		time.Sleep(3 * time.Second)
	}
	if ctx.Err() != nil {
		t.Fatalf("no complete scrape from the management listener before the deadline; last body:\n%.2000s", body)
	}
	for _, want := range []*regexp.Regexp{
		// Every daemon's build info names the booted root hash (the
		// supernode's and the filter's units hide /proc/cmdline with
		// ProcSubset=pid and get it as the credential kernel-cmdline).
		regexp.MustCompile(`supernode_build_info\{commit="[^"]*",daemon="supernode",root_hash="[0-9a-f]{64}",version="[^"]+"\} 1`),
		regexp.MustCompile(`supernode_build_info\{commit="[^"]*",daemon="supernode-xdp",root_hash="[0-9a-f]{64}",version="[^"]+"\} 1`),
		regexp.MustCompile(`supernode_build_info\{commit="[^"]*",daemon="appliance-mgmt",root_hash="[0-9a-f]{64}",version="[^"]+"\} 1`),
		regexp.MustCompile(`supernode_xdp_packets_total\{daemon="supernode-xdp",`),
		regexp.MustCompile(`appliance_audit_control_status\{control="net-nftables-default-deny",daemon="appliance-audit",severity="high",status="pass"\} 1`),
		regexp.MustCompile(`appliance_audit_control_status\{control="net-listening",daemon="appliance-audit",severity="[a-z]+",status="pass"\} 1`),
	} {
		if !want.MatchString(body) {
			t.Errorf("the management scrape lacks %s", want)
		}
	}
	for _, l := range regexp.MustCompile(`supernode_build_info\{.*`).FindAllString(body, -1) {
		t.Logf("%s", l)
	}
	for _, l := range regexp.MustCompile(`appliance_audit_control_status\{[^}]*status="(fail|error)"\} 1`).FindAllString(body, -1) {
		t.Errorf("live audit: %s", l)
	}
	khcLiveSysctls(t, body)
	for _, want := range []string{"Finished appliance-firewall.service", "Started appliance-mgmt.service"} {
		if !strings.Contains(vm.Console(), want) {
			t.Errorf("serial console lacks %q", want)
		}
	}
	if strings.Contains(vm.Console(), "ignoring the overlay") {
		t.Errorf("supernode-xdp refused the overlay: %s", testenv.LineWith(vm.Console(), "ignoring the overlay"))
	}

	// Log shipping: this boot's journal arrives at the collector as RFC
	// 5424 over TLS, from its start (netlogd begins at the head of the
	// journal when it has no cursor): the kernel's command line with the
	// root hash the appliance booted with.
	if l := testenv.LineWith(vm.Console(), "appliance-mgmt logship:"); l != "" {
		t.Fatalf("log shipping was refused: %s", l)
	}
	m := regexp.MustCompile(`daemon="appliance-mgmt",root_hash="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no root hash in the scrape")
	}
	bootLine := regexp.MustCompile(`<\d+>1 \S+ \S+ kernel - - - Command line: roothash=` + m[1] + ` `)
	var got string
	for ctx.Err() == nil {
		if l := testenv.LineWith(vm.Console(), "systemd-netlogd.service: Failed"); l != "" {
			t.Fatalf("the log forwarder failed: %s", l)
		}
		if got = collector.text(); bootLine.MatchString(got) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if ctx.Err() != nil {
		t.Fatalf("the kernel's command line of this boot (roothash=%s) did not reach the TLS collector as RFC 5424; received %d bytes:\n%.1500s", m[1], len(got), got)
	}
	t.Logf("collector received %d bytes over TLS; it begins: %.200s", len(got), got)
	if !strings.Contains(vm.Console(), "shipping the journal to tls://10.0.2.2:"+strconv.Itoa(collector.port)) {
		t.Errorf("serial console lacks appliance-logship's line")
	}
}

// syslogCollector is a TLS syslog receiver (RFC 5425's transport) on the
// host's loopback, which QEMU's user network shows the guest as 10.0.2.2.
type syslogCollector struct {
	port  int
	caPEM []byte
	mu    sync.Mutex
	buf   strings.Builder
}

func startSyslogCollector(t *testing.T) *syslogCollector {
	t.Helper()
	pki := testenv.NewPKI(t, net.IPv4(10, 0, 2, 2), net.IPv4(127, 0, 0, 1))
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pki.Server}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c := &syslogCollector{port: l.Addr().(*net.TCPAddr).Port, caPEM: pki.CAPEM}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				b := make([]byte, 16<<10)
				for {
					n, err := conn.Read(b)
					c.mu.Lock()
					if c.buf.Len() < 4<<20 {
						c.buf.Write(b[:n])
					}
					c.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return c
}

func (c *syslogCollector) text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

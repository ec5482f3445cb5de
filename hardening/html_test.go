package hardening

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

var (
	tagRE   = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`([a-zA-Z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	styleRE = regexp.MustCompile(`(?s)<style[^>]*>(.*?)</style>`)
)

// externalResources lists every URL in page that a browser would fetch by
// itself: any attribute naming another host, except a link's href (which
// is only followed when clicked) and the SVG namespace; url() and @import
// in style sheets.
func externalResources(page string) []string {
	var out []string
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		tag := strings.ToLower(m[1])
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			name, val := strings.ToLower(a[1]), a[2]+a[3]
			if (tag == "a" && name == "href") || name == "xmlns" {
				continue
			}
			if strings.Contains(val, "://") || strings.HasPrefix(val, "//") || strings.Contains(val, "url(") {
				out = append(out, "<"+tag+" "+name+"="+val+">")
			}
		}
	}
	for _, m := range styleRE.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[1], "url(") || strings.Contains(m[1], "@import") {
			out = append(out, "style: "+m[1])
		}
	}
	return out
}

const canaryPage = `<!DOCTYPE html><html><head><link rel="stylesheet" href="https://fonts.example.com/a.css"></head>
<body><img src="http://192.0.2.1/x.png"><a href="https://example.com/">a link</a></body></html>`

// TestHTMLIsSelfContainedAndEscaped: no resource from another host, and
// hostile text in any field comes out as text.
func TestHTMLIsSelfContainedAndEscaped(t *testing.T) {
	if got := externalResources(canaryPage); len(got) != 2 {
		t.Fatalf("the resource finder misses the canary's two fetches: %q", got)
	}
	rep, _ := evidenceReport(t)
	evil := `</td><script>alert(1)</script><img src="http://203.0.113.9/x.png">`
	rep.Results[0].Message = evil
	rep.Results[0].Evidence = append(rep.Results[0].Evidence, Evidence{Where: evil, Found: `" onmouseover="alert(2)`, Expected: evil})
	rep.Results[0].References = append(rep.Results[0].References, `https://example.com/" onclick="alert(3)`, "javascript:alert(4)")
	rep.Target = evil
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if got := externalResources(page); len(got) > 0 {
		t.Errorf("the page fetches from the network: %q", got)
	}
	for _, bad := range []string{"<script", `<img src="http://203.0.113.9`, `onmouseover="alert`, `onclick="alert`, `href="javascript:`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile message is not shown as text")
	}
	// Every control is on the page with each of its evidence items.
	for _, r := range rep.Results[1:] {
		if !strings.Contains(page, `id="control-`+r.Control+`"`) {
			t.Errorf("%s missing", r.Control)
		}
	}
}

func TestReferenceURL(t *testing.T) {
	for ref, want := range map[string]string{
		"KSPP sysctl kernel.kptr_restrict=2":          "https://kspp.github.io/Recommended_Settings",
		"CIS Debian 12 v1.1.0 1.5.1":                  "https://www.cisecurity.org/benchmark/debian_linux",
		"DISA STIG RHEL 8 RHEL-08-040283":             "https://www.stigviewer.com/stig/red_hat_enterprise_linux_8/",
		"systemd.exec(5) CapabilityBoundingSet=":      "https://man7.org/linux/man-pages/man5/systemd.exec.5.html",
		"veritysetup(8)":                              "https://man7.org/linux/man-pages/man8/veritysetup.8.html",
		"see https://example.org/x for details":       "https://example.org/x",
		"appliance practice: minimal image":           "",
		"kernel-hardening-checker CONFIG_BPF_SYSCALL": "https://github.com/a13xp0p0v/kernel-hardening-checker",
	} {
		if got := referenceURL(ref); got != want {
			t.Errorf("%q: %q, want %q", ref, got, want)
		}
	}
}

// chromiumRun is one headless Chromium run: the DOM it built, the page's
// own network requests (from its net log) and a screenshot.
type chromiumRun struct {
	dom      string
	requests []string
	err      error
}

// headless loads url in Chromium with a net log, from a network namespace
// without interfaces when root (Chromium then needs --no-sandbox), with the
// browser's own background traffic (updates, time, dictionaries) off.
func headless(ctx context.Context, dir, url string, extra ...string) chromiumRun {
	args := []string{"--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--log-net-log=" + filepath.Join(dir, "net.json")}
	args = append(append(args, extra...), url)
	name := "chromium"
	if os.Geteuid() == 0 {
		args = append([]string{"-n", "chromium", "--no-sandbox"}, args...)
		name = "unshare"
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return chromiumRun{err: fmt.Errorf("%s: %v: %s", name, err, lastLine(stderr.String()))}
	}
	reqs, err := pageRequests(filepath.Join(dir, "net.json"))
	return chromiumRun{dom: stdout.String(), requests: reqs, err: err}
}

// pageRequests reads a Chromium net log and returns the URLs of requests
// a page made (the browser's own have the initiator "not an origin").
func pageRequests(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var log struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		return nil, fmt.Errorf("net log %s: %v", path, err)
	}
	start, ok := log.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		return nil, fmt.Errorf("net log %s names no URL_REQUEST_START_JOB event", path)
	}
	var out []string
	for _, e := range log.Events {
		if e.Type == start && e.Params.URL != "" && e.Params.Initiator != "not an origin" && !strings.HasPrefix(e.Params.URL, "file:") && !strings.HasPrefix(e.Params.URL, "data:") {
			out = append(out, e.Params.URL)
		}
	}
	return out, nil
}

var (
	domCountRE   = regexp.MustCompile(`id="count-(\w+)">(\d+)<`)
	domRowRE     = regexp.MustCompile(`(?s)<tr data-key="([^"]+)">(.*?)</tr>`)
	domCellRE    = regexp.MustCompile(`<td class="n" data-status="(\w+)">(\d+)</td>`)
	domSectionRE = regexp.MustCompile(`(?s)<section class="control [a-z]+" id="control-([^"]+)" data-status="(\w+)" data-severity="(\w+)">(.*?)</section>`)
	domEvRowRE   = regexp.MustCompile(`<tr class="(good|bad)">`)
)

// TestHTMLInChromium renders the HTML report of an audit in headless
// Chromium and checks that the page shows the numbers of the JSON report
// of the same run, made no network request, and renders.
func TestHTMLInChromium(t *testing.T) {
	testenv.RequireCommands(t, "chromium")
	dir := t.TempDir()
	rep, _ := evidenceReport(t)
	htmlPath, jsonPath := filepath.Join(dir, "report.html"), filepath.Join(dir, "report.json")
	if err := WriteReportFile(htmlPath, nil, rep.WriteHTML); err != nil {
		t.Fatal(err)
	}
	if err := WriteReportFile(jsonPath, nil, rep.WriteJSON); err != nil {
		t.Fatal(err)
	}
	canaryPath := filepath.Join(dir, "canary.html")
	if err := os.WriteFile(canaryPath, []byte(canaryPage), 0o644); err != nil {
		t.Fatal(err)
	}

	// A guard against a hung browser, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shot := filepath.Join(dir, "report.png")
	var page, canary chromiumRun
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		os.Mkdir(filepath.Join(dir, "page"), 0o755)
		page = headless(ctx, filepath.Join(dir, "page"), "file://"+htmlPath, "--window-size=1200,1600", "--screenshot="+shot, "--dump-dom")
	}()
	go func() {
		defer wg.Done()
		os.Mkdir(filepath.Join(dir, "canary"), 0o755)
		canary = headless(ctx, filepath.Join(dir, "canary"), "file://"+canaryPath, "--dump-dom")
	}()
	wg.Wait()
	if page.err != nil || canary.err != nil {
		t.Fatalf("chromium: %v; canary: %v", page.err, canary.err)
	}

	// The net log sees a page's fetches: the canary's two are there.
	if len(canary.requests) != 2 {
		t.Fatalf("the canary page's fetches are not in the net log: %q", canary.requests)
	}
	if len(page.requests) > 0 {
		t.Errorf("the report page made network requests: %q", page.requests)
	}

	// The numbers shown are the JSON report's.
	f, err := os.Open(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	js, err := ReadReport(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, m := range domCountRE.FindAllStringSubmatch(page.dom, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	want := map[string]int{"total": len(js.Results)}
	for _, s := range []Status{Pass, Fail, Exception, Error} {
		want[string(s)] = js.Counts[s]
	}
	for k, n := range want {
		if c, ok := counts[k]; !ok || c != n {
			t.Errorf("page shows %s = %d (shown: %t), the JSON report %d", k, c, ok, n)
		}
	}
	// The charts' tables: per severity and per reference family, per status.
	matrix := map[string]map[string]int{}
	for _, r := range js.Results {
		keys := []string{r.Severity}
		seen := map[string]bool{}
		for _, ref := range r.References {
			if f := referenceFamily(ref); !seen[f] {
				seen[f] = true
				keys = append(keys, f)
			}
		}
		for _, k := range keys {
			if matrix[k] == nil {
				matrix[k] = map[string]int{}
			}
			matrix[k][string(r.Status)]++
			matrix[k]["total"]++
		}
	}
	shown := map[string]map[string]int{}
	for _, row := range domRowRE.FindAllStringSubmatch(page.dom, -1) {
		shown[row[1]] = map[string]int{}
		for _, c := range domCellRE.FindAllStringSubmatch(row[2], -1) {
			shown[row[1]][c[1]], _ = strconv.Atoi(c[2])
		}
	}
	if len(shown) != len(matrix) {
		t.Errorf("page has %d chart rows %v, the JSON report gives %d", len(shown), shown, len(matrix))
	}
	for k, cells := range matrix {
		for _, s := range []string{"pass", "fail", "exception", "error", "total"} {
			if shown[k][s] != cells[s] {
				t.Errorf("chart row %q %s: page %d, JSON %d", k, s, shown[k][s], cells[s])
			}
		}
	}
	// Every control, in the report's order, with its status, severity and
	// one evidence row per item.
	sections := domSectionRE.FindAllStringSubmatch(page.dom, -1)
	if len(sections) != len(js.Results) {
		t.Fatalf("page shows %d controls, the JSON report %d", len(sections), len(js.Results))
	}
	for i, s := range sections {
		r := js.Results[i]
		if s[1] != r.Control || s[2] != string(r.Status) || s[3] != r.Severity {
			t.Errorf("control %d: page %s %s %s, JSON %s %s %s", i, s[1], s[2], s[3], r.Control, r.Status, r.Severity)
		}
		rows := domEvRowRE.FindAllStringSubmatch(s[4], -1)
		bad := 0
		for _, e := range r.Evidence {
			if !e.OK {
				bad++
			}
		}
		nbad := 0
		for _, m := range rows {
			if m[1] == "bad" {
				nbad++
			}
		}
		if len(rows) != len(r.Evidence) || nbad != bad {
			t.Errorf("%s: page shows %d evidence rows (%d bad), JSON %d (%d bad)", r.Control, len(rows), nbad, len(r.Evidence), bad)
		}
	}

	// It renders: a PNG of the window's size with the status colours drawn.
	pf, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(pf)
	pf.Close()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1600 {
		t.Errorf("screenshot is %dx%d, want 1200x1600", b.Dx(), b.Dy())
	}
	colours := map[[3]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	for name, c := range map[string][3]uint32{"fail red": {0xc6, 0x28, 0x28}, "pass green": {0x2e, 0x7d, 0x32}} {
		if colours[c] < 200 {
			t.Errorf("the screenshot has %d pixels of the %s the page draws", colours[c], name)
		}
	}
	t.Logf("chromium rendered %d controls, %d colours, DOM %d bytes", len(sections), len(colours), len(page.dom))
}

// Package imdstest is a fake cloud metadata service for tests: it answers
// as AWS (IMDSv2 only), GCP or Azure would, insists on each cloud's
// required headers, records every request, and can misbehave on demand.
package imdstest

import (
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Cloud selects which service the fake imitates.
type Cloud string

const (
	AWS   Cloud = "aws"
	GCP   Cloud = "gcp"
	Azure Cloud = "azure"
)

const awsToken = "AQAEAFakeToken=="

// Fake is an http.Handler; set the fields before serving.
type Fake struct {
	Cloud    Cloud
	UserData []byte        // nil: the instance has none (404, or empty on Azure)
	Delay    time.Duration // before any answer (a slow or stalled service)
	Redirect string        // answer every request with 307 to this URL

	mu       sync.Mutex
	requests []string
}

// Requests returns "METHOD /path?query" of every request seen so far.
func (f *Fake) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.Redirect != "" {
		http.Redirect(w, r, f.Redirect, http.StatusTemporaryRedirect)
		return
	}
	switch f.Cloud {
	case AWS:
		f.aws(w, r)
	case GCP:
		f.gcp(w, r)
	case Azure:
		f.azure(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) aws(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/latest/api/token":
		// IMDSv2: PUT with a TTL, never through a proxy (X-Forwarded-For).
		if r.Method != http.MethodPut || r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") == "" || r.Header.Get("X-Forwarded-For") != "" {
			http.Error(w, "bad token request", http.StatusBadRequest)
			return
		}
		w.Write([]byte(awsToken))
	case r.URL.Path == "/latest/user-data" && r.Method == http.MethodGet:
		if r.Header.Get("X-aws-ec2-metadata-token") != awsToken {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		f.plain(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *Fake) gcp(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Metadata-Flavor") != "Google" {
		http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/computeMetadata/v1/instance/attributes/user-data" {
		http.NotFound(w, r)
		return
	}
	f.plain(w, r)
}

func (f *Fake) azure(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Header.Get("Metadata") != "true" {
		http.Error(w, `{"error":"Bad request. Required metadata header not specified"}`, http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/metadata/instance/compute/userData" || q.Get("api-version") == "" || q.Get("format") != "text" {
		http.NotFound(w, r)
		return
	}
	w.Write([]byte(base64.StdEncoding.EncodeToString(f.UserData)))
}

func (f *Fake) plain(w http.ResponseWriter, r *http.Request) {
	if f.UserData == nil {
		http.NotFound(w, r)
		return
	}
	w.Write(f.UserData)
}

// DMI returns the /sys/class/dmi/id files (name -> content) of a machine
// on cloud c, as the kernel shows them; "" gives a bare-metal server.
func DMI(c Cloud) map[string]string {
	switch c {
	case AWS:
		return map[string]string{"sys_vendor": "Amazon EC2\n", "product_name": "m7i.large\n", "chassis_asset_tag": "Amazon EC2\n"}
	case GCP:
		return map[string]string{"sys_vendor": "Google\n", "product_name": "Google Compute Engine\n", "chassis_asset_tag": "\n"}
	case Azure:
		return map[string]string{"sys_vendor": "Microsoft Corporation\n", "product_name": "Virtual Machine\n", "chassis_asset_tag": "7783-7084-3265-9085-8269-3286-77\n"}
	}
	return map[string]string{"sys_vendor": "Dell Inc.\n", "product_name": "PowerEdge R650\n", "chassis_asset_tag": "\n"}
}

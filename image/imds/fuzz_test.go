package imds_test

import (
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/image/imds"
)

// FuzzParseDocument: no input panics, and whatever is accepted is within
// the policy.
func FuzzParseDocument(f *testing.F) {
	f.Add([]byte(`{"systemd.credentials":[{"name":"supernode.conf","text":"a = 1\n"}]}`))
	f.Add([]byte("#systemd-userdata\n{\"systemd.credentials\":[{\"name\":\"supernode.k\",\"data\":\"YQ==\"}]}"))
	f.Add([]byte(`{"systemd.credentials":[{"name":"../x","text":""}]}`))
	p := imds.Policy{Allow: []string{"supernode.*"}, MaxValue: 64, MaxCount: 4}
	f.Fuzz(func(t *testing.T, b []byte) {
		creds, err := imds.ParseDocument(b, p)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if len(creds) > p.MaxCount {
			t.Fatalf("%d credentials", len(creds))
		}
		for _, c := range creds {
			if imds.CheckName(c.Name, p.Allow) != nil || len(c.Value) > p.MaxValue {
				t.Fatalf("accepted %q (%d bytes)", c.Name, len(c.Value))
			}
		}
	})
}

package confpart

import (
	"bytes"
	"testing"
)

// FuzzParse: whatever is on the stick, Parse never panics, and what it
// accepts is only allowlisted names within the limits, each once.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"supernode.a=1\n", "# x\r\nsupernode-xdp.b = 2\r\n", "=\n", "supernode.a\n", "\xef\xbb\xbfsupernode.a=\x00", "network.network.x=1", "supernode.a=1\nsupernode.a=2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		creds, err := Parse(b, Policy{Allow: allow})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range creds {
			if CheckName(c.Name, allow) != nil || seen[c.Name] || len(c.Value) > DefaultMaxValue || bytes.ContainsAny(c.Value, "\x00\n\r") {
				t.Fatalf("accepted %q=%q from %q", c.Name, c.Value, b)
			}
			seen[c.Name] = true
		}
		if len(creds) > DefaultMaxCount {
			t.Fatalf("accepted %d credentials", len(creds))
		}
	})
}

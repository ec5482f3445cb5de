package imds

import (
	"fmt"
	"path"

	"github.com/supernode-appliance/appliance/hardening"
)

// AllowlistControl is the hardening profile control that names the only
// credentials any unit may import (hardening/credentials.go). The metadata
// service is one more source of such credentials, so it is held to the
// same list: one declaration, in the profile.
const AllowlistControl = "boot-credential-allowlist"

// Allowlist returns the credential name globs of the embedded hardening
// profile. A profile without the control is an error, never "allow all".
func Allowlist() ([]string, error) {
	p, err := hardening.Default()
	if err != nil {
		return nil, err
	}
	c := p.Control(AllowlistControl)
	if c == nil || len(c.Values) == 0 {
		return nil, fmt.Errorf("the hardening profile has no %q control; refusing every credential", AllowlistControl)
	}
	return append([]string(nil), c.Values...), nil
}

// Allowed reports whether a literal credential name is matched by one of
// the globs, with the matching systemd's ImportCredential= uses (fnmatch).
func Allowed(name string, allow []string) bool {
	for _, g := range allow {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

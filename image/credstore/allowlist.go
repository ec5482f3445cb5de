// Package credstore is what every source of per-instance configuration
// shares (the cloud metadata one-shot image/imds, the configuration
// partition one-shot image/confpart, `appliance configure`): the
// hardening profile's credential allowlist, the name checks, and the
// atomic, never-overwriting writes into /run/credstore.
package credstore

import (
	"fmt"
	"path"
	"strings"

	"github.com/supernode-appliance/appliance/hardening"
)

// AllowlistControl is the hardening profile control that names the only
// credentials any unit may import (hardening/credentials.go). The metadata
// service and the configuration partition are more sources of such
// credentials, so they are held to the same list: one declaration, in the
// profile.
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

// Credential is one named value to write into the credential store.
type Credential struct {
	Name  string
	Value []byte
}

// CheckName accepts a credential name only if it is a plain file name and
// matched by the allowlist.
func CheckName(name string, allow []string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 255 {
		return fmt.Errorf("name %q is not a plain file name", name)
	}
	for _, r := range name {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("name %q has a character outside printable ASCII", name)
		}
	}
	if !Allowed(name, allow) {
		return fmt.Errorf("name %q is not on the credential allowlist (%s)", name, strings.Join(allow, " "))
	}
	return nil
}

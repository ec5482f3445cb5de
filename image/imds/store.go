package imds

import (
	"fmt"
	"strings"

	"github.com/supernode-appliance/appliance/image/credstore"
)

// The allowlist, the name checks and the credential store are shared with
// the configuration partition (image/credstore); these names keep this
// package's API.
const (
	AllowlistControl = credstore.AllowlistControl
	DefaultCredStore = credstore.DefaultCredStore
)

// DefaultStateDir holds "<daemon>.imported" marks for
// appliance-imds-restart@<daemon>.service (the unit's RuntimeDirectory=).
const DefaultStateDir = "/run/appliance-imds"

// DefaultShadowDirs are the stores searched before DefaultCredStore.
var DefaultShadowDirs = credstore.DefaultShadowDirs

type (
	Credential = credstore.Credential
	Outcome    = credstore.Outcome
)

var (
	Allowlist  = credstore.Allowlist
	Allowed    = credstore.Allowed
	WriteStore = credstore.WriteStore
	Consumers  = credstore.Consumers
)

// earlyPrefixes are credentials the allowlist admits but whose consumer
// runs before the metadata service can be reached (systemd-network-generator
// reads network.* before networkd starts): from user data they would sit
// in the store unread, so they are refused with the reason.
var earlyPrefixes = []string{"network."}

// CheckName accepts a credential name only if it is a plain file name,
// matched by the allowlist and read after the metadata service answers.
func CheckName(name string, allow []string) error {
	if err := credstore.CheckName(name, allow); err != nil {
		return err
	}
	for _, p := range earlyPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("name %q is read before the metadata service is reachable; supply it through SMBIOS or fw_cfg instead", name)
		}
	}
	return nil
}

package hardening

import (
	"fmt"
	"sort"
	"strings"
)

// params says which control fields a method needs.
type params struct{ key, expect, values, settings bool }

func (p params) require(c *Control, what string) error {
	switch {
	case p.key && c.Key == "":
		return fmt.Errorf("%s needs key", what)
	case p.expect && c.Expect == "":
		return fmt.Errorf("%s needs expect", what)
	case p.values && len(c.Values) == 0:
		return fmt.Errorf("%s needs values", what)
	case p.settings && len(c.Settings) == 0:
		return fmt.Errorf("%s needs settings", what)
	}
	return nil
}

type method struct {
	params params
	doc    string
}

// applyMethods are the ways Apply changes a root directory (apply.go).
var applyMethods = map[string]method{
	"none":                 {doc: "nothing to apply: the property is inherent or only observed"},
	"builder":              {doc: "done by the image builder (package removal, erofs, verity, UKI); the audit checks the result"},
	"cmdline":              {params{settings: true}, "kernel command line tokens, returned by KernelCmdline and written to /etc/kernel/cmdline"},
	"sysctl":               {params{settings: true}, "/etc/sysctl.d/90-supernode-hardening.conf"},
	"modprobe-blacklist":   {params{values: true}, "/etc/modprobe.d/supernode-hardening.conf: install <m> /bin/false + blacklist <m>"},
	"fstab":                {params{key: true, expect: true}, "tmpfs line for the mount point in /etc/fstab (/var only in stateless images)"},
	"file-mode":            {params{values: true, expect: true}, "clear mode bits beyond expect on each path"},
	"lock-accounts":        {doc: "lock every password field in /etc/shadow"},
	"nologin-shells":       {doc: "set every account's shell to /usr/sbin/nologin"},
	"strip-suid":           {doc: "remove setuid/setgid bits from every file (values: allowed paths)"},
	"systemd-conf":         {params{key: true, settings: true}, "drop-in /etc/<key>.d/zz-supernode-hardening.conf, settings Section.Key = value"},
	"audit-rules":          {params{values: true}, "/etc/audit/rules.d/99-supernode-hardening.rules"},
	"mask-units":           {params{values: true}, "symlink /etc/systemd/system/<unit> -> /dev/null"},
	"disable-unlisted":     {params{values: true}, "remove enablement links in /etc/systemd/system for units matching no pattern in values"},
	"unit-dropin":          {params{key: true, expect: true}, "drop-in /etc/systemd/system/<key>.d/zz-supernode-hardening.conf with body expect"},
	"credential-allowlist": {params{values: true}, "drop-in resetting ImportCredential= to the allowed globs for every unit importing more"},
	"unit":                 {params{key: true, expect: true, values: true}, "write unit <key> with body expect and enable it in the values targets"},
	"nftables":             {params{values: true}, "/etc/nftables.conf default-deny input allowing values (proto/port), nftables.service enabled"},
	"stamp":                {doc: "/usr/lib/supernode/hardening-profile: profile version and image mode"},
}

// checkMethods are the ways the audit verifies a control (checks.go).
var checkMethods = map[string]method{
	"cmdline":              {params{settings: true}, "kernel command line (UKI .cmdline offline, /proc/cmdline live)"},
	"sysctl":               {params{settings: true}, "effective sysctl.d value offline, /proc/sys live"},
	"modprobe":             {params{values: true}, "module blacklisted with install /bin/false or not shipped; live: not loaded"},
	"mount":                {params{key: true, expect: true}, "mount options from fstab/mount units offline, mountinfo live"},
	"file-mode":            {params{values: true, expect: true}, "mode no wider than expect, owned by root"},
	"root-locked":          {doc: "root's password field is locked"},
	"no-passwords":         {doc: "no account has a usable password hash or an empty password"},
	"nologin-shells":       {doc: "no account has a login shell (debug images: root may)"},
	"no-suid":              {doc: "no setuid/setgid file outside values"},
	"systemd-conf":         {params{key: true, settings: true}, "merged systemd config file + drop-ins"},
	"audit-rules":          {params{values: true}, "rules present in /etc/audit/rules.d and a rule loader enabled"},
	"masked":               {params{values: true}, "units masked (linked to /dev/null)"},
	"unit-enabled":         {params{key: true}, "unit file present and enabled"},
	"nftables":             {params{values: true}, "nftables.conf input policy drop, only values allowed, service enabled"},
	"absent":               {params{values: true}, "no path matches any of the glob patterns"},
	"enabled-units":        {params{values: true}, "every enabled unit matches a pattern in values"},
	"unit-caps":            {params{key: true}, "unit's capability bounding set within values (empty: none)"},
	"exposure":             {params{settings: true}, "systemd-analyze security exposure per unit at or below the threshold"},
	"kconfig":              {params{settings: true}, "kernel build config (/boot/config-*)"},
	"verity":               {doc: "root is dm-verity verified against the UKI's roothash"},
	"uki":                  {doc: "kernel, initrd and command line in one UKI with roothash="},
	"secure-boot":          {doc: "UKI carries an Authenticode signature (live: SecureBoot enabled)"},
	"lockdown":             {params{expect: true}, "/sys/kernel/security/lockdown"},
	"listening":            {params{values: true}, "listening sockets only on values (proto/port); loopback listeners allowed"},
	"xdp":                  {doc: "an XDP program is attached to every uplink"},
	"stamp":                {doc: "image carries the profile version it was hardened with"},
	"credential-allowlist": {params{values: true}, "every unit imports only allowlisted system credentials; no systemd-debug-generator"},
	"signed-cmdline":       {doc: "the kernel command line is exactly the one the image was built (and signed) with"},
	"initrd-no-shell":      {doc: "the UKI's initrd has no shell, sulogin, emergency/rescue/debug-shell unit or dracut hook"},
}

func methodNames(m map[string]method) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

package hardening

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// System credentials (systemd.system-credentials(7)) arrive from SMBIOS
// type 11 and fw_cfg, which whoever runs the hypervisor controls, and
// systemd 257 imports them as trusted whatever Secure Boot says. The
// profile's credential allowlist (control boot-credential-allowlist) names
// the only credentials any unit may import; Apply writes a drop-in that
// resets ImportCredential= to the allowed patterns for every unit that
// imports more (journald's journal.*, tmpfiles.*, sysctl.*, sysusers.*,
// login.*, ...), and the audit evaluates every unit's effective imports.
// Generators read the system store directly: systemd-debug-generator
// (systemd.extra-unit.*, systemd.unit-dropin.*) is removed from the image
// and the initrd by the builder; getty-generator's units are masked in
// production images.

const credentialDropin = "zz-supernode-credentials.conf"

// credentialImports returns the unit's effective ImportCredential= globs
// (after drop-ins; an empty assignment resets) and LoadCredential= ids that
// name no file (those come from the system store), with where they were set.
func credentialImports(root, unit string) (globs, where []string) {
	vals, at := unitSettings(root, unit, "Service", "ImportCredential")
	for i, v := range vals {
		if v == "" {
			globs, where = nil, nil
			continue
		}
		// "glob:rename-prefix" imports the glob under another name.
		g, _, _ := strings.Cut(v, ":")
		globs, where = append(globs, g), append(where, at[i])
	}
	lvals, lat := unitSettings(root, unit, "Service", "LoadCredential")
	for i, v := range lvals {
		if v != "" && !strings.Contains(v, ":") {
			globs, where = append(globs, v), append(where, lat[i])
		}
	}
	return globs, where
}

// credentialAllowed reports whether an import glob can only match names
// the allowlist matches: a literal name matched by an allowed glob, or a
// "prefix*" glob inside an allowed "prefix*" glob.
func credentialAllowed(allow []string, glob string) bool {
	for _, a := range allow {
		if !strings.ContainsAny(glob, "*?[") {
			if m, _ := path.Match(a, glob); m {
				return true
			}
			continue
		}
		ap, aok := strings.CutSuffix(a, "*")
		gp, gok := strings.CutSuffix(glob, "*")
		if aok && gok && !strings.ContainsAny(ap+gp, "*?[") && strings.HasPrefix(gp, ap) {
			return true
		}
	}
	return false
}

// serviceUnits lists every service unit file name in the root's unit
// directories that is not masked.
func serviceUnits(root string) []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range unitDirs {
		ents, _ := os.ReadDir(inRoot(root, d))
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".service") || seen[n] {
				continue
			}
			seen[n] = true
			// Masked units run nothing; aliases (dbus-org.freedesktop.network1.service
			// -> systemd-networkd.service) are their target unit, which is
			// evaluated under its own name with its own drop-ins.
			if l, err := os.Readlink(inRoot(root, findUnit(root, n))); err == nil && (l == "/dev/null" || path.Base(l) != n) {
				continue
			}
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// credentialAllowlist writes, for each unit importing credentials outside
// the allowlist, a drop-in that resets the imports to the allowed ones.
func (a *applier) credentialAllowlist() error {
	for _, c := range a.controls("credential-allowlist") {
		for _, u := range serviceUnits(a.root) {
			p := "/etc/systemd/system/" + u + ".d/" + credentialDropin
			// Derive from the unit without our own drop-in; put it back
			// unchanged when nothing changed (idempotence).
			old, hadOld := os.ReadFile(inRoot(a.root, p))
			os.Remove(inRoot(a.root, p))
			globs, _ := credentialImports(a.root, u)
			var keep, drop []string
			for _, g := range globs {
				if credentialAllowed(c.Values, g) {
					keep = append(keep, g)
				} else {
					drop = append(drop, g)
				}
			}
			if len(drop) == 0 {
				if hadOld == nil {
					a.add(Change{c.ID, p, "removed: " + u + " imports only allowed credentials"})
				}
				continue
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# control %s: %s\n# not imported: %s\n[Service]\nImportCredential=\n", c.ID, c.Title, strings.Join(drop, " "))
			for _, g := range keep {
				fmt.Fprintf(&b, "ImportCredential=%s\n", g)
			}
			if hadOld == nil && string(old) == b.String() {
				if _, err := writeIfChanged(inRoot(a.root, p), old, 0o644); err != nil {
					return err
				}
				continue
			}
			changed, err := writeIfChanged(inRoot(a.root, p), []byte(b.String()), 0o644)
			if err != nil {
				return err
			}
			if changed {
				a.add(Change{c.ID, p, u + ": credentials " + strings.Join(drop, " ") + " no longer imported"})
			}
		}
	}
	return nil
}

// checkCredentialAllowlist: every unit's effective imports are allowed,
// and no generator that turns credentials into units is shipped.
func checkCredentialAllowlist(c *Control, t *Target) (bool, []Evidence, error) {
	var ev []Evidence
	for _, u := range serviceUnits(t.Root) {
		globs, where := credentialImports(t.Root, u)
		for i, g := range globs {
			ok := credentialAllowed(c.Values, g)
			if !ok || strings.HasPrefix(u, "supernode") {
				ev = append(ev, Evidence{Where: where[i], Found: u + " imports " + g, Expected: "within " + strings.Join(c.Values, " "), OK: ok})
			}
		}
	}
	for _, g := range []string{"/usr/lib/systemd/system-generators/systemd-debug-generator", "/etc/systemd/system-generators/systemd-debug-generator"} {
		_, err := os.Lstat(inRoot(t.Root, g))
		ev = append(ev, Evidence{Where: g, Found: map[bool]string{true: "absent", false: "present (turns systemd.extra-unit.*/systemd.unit-dropin.* credentials into units)"}[err != nil], Expected: "absent", OK: err != nil})
	}
	return allOK(ev), ev, nil
}

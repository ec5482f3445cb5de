package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/supernode-appliance/appliance/image/imds"
	"github.com/supernode-appliance/appliance/image/qemu"
)

// Credentials for `appliance boot`: per-instance configuration passed by the
// hypervisor (SMBIOS type 11 or fw_cfg), so one image boots many appliances
// without rebuilding.
//
// A -config FILE holds one credential per line:
//
//	# comment (also blank lines)
//	supernode.software = edge-1
//	supernode.fleet_seeds = 10.0.0.11:7946, 10.0.0.12:7946
//	network.network.10-uplink = [Match]\nType=ether\n[Network]\nAddress=10.0.0.11/24
//
// NAME=VALUE, split at the first '='; spaces around the name and the value
// are dropped; in the value \n is a newline, \t a tab and \\ a backslash
// (any other backslash is a mistake). -credential NAME=VALUE takes the same
// form and wins over the files; a name twice in one place is a mistake.

// credentialsTotalMax is systemd's limit on all system credentials
// together (CREDENTIALS_TOTAL_SIZE_MAX, 1 MiB): beyond it systemd skips
// credentials with a warning nobody sees on the host.
const credentialsTotalMax = 1 << 20

// credentialVias are the -credential-via choices.
var credentialVias = []string{"fw_cfg", "smbios"}

// credentialFlags gathers -config and -credential in command-line order.
type credentialFlags struct {
	files []string
	args  []string
}

// parseCredentialLine splits NAME=VALUE and unescapes the value.
func parseCredentialLine(s string) (name, value string, err error) {
	name, raw, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", fmt.Errorf("%q is not NAME=VALUE; write the credential name, '=' and its value", s)
	}
	value, err = unescapeCredential(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("credential %q: %v", name, err)
	}
	return name, value, nil
}

func unescapeCredential(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", fmt.Errorf(`the value ends in a lone '\'; write \\ for a backslash`)
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf(`unknown escape \%c in the value; use \n, \t or \\`, s[i])
		}
	}
	return b.String(), nil
}

// readCredentialFile reads a -config file.
func readCredentialFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-config %s cannot be read (%v); give a readable file of NAME=VALUE lines", path, err)
	}
	out := map[string]string{}
	seen := map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, value, err := parseCredentialLine(line)
		if err != nil {
			return nil, fmt.Errorf("-config %s line %d: %v", path, i+1, err)
		}
		if first, dup := seen[name]; dup {
			return nil, fmt.Errorf("-config %s sets %s on lines %d and %d; keep one", path, name, first, i+1)
		}
		seen[name] = i + 1
		out[name] = value
	}
	return out, nil
}

// resolveCredentials reads the files and flags (files in order, then
// -credential, later ones winning over files), checks every name against
// the image's credential allowlist and the chosen channel, and returns the
// credentials for qemu.Options: SMBIOS or fw_cfg.
func resolveCredentials(cf credentialFlags, via string, allow []string) (smbios, fwcfg map[string]string, err error) {
	if via != "smbios" && via != "fw_cfg" {
		return nil, nil, fmt.Errorf("-credential-via %q is not a channel; use %s", via, strings.Join(credentialVias, " or "))
	}
	creds := map[string]string{}
	for _, f := range cf.files {
		m, err := readCredentialFile(f)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range m {
			creds[k] = v
		}
	}
	fromFlags := map[string]bool{}
	for _, a := range cf.args {
		name, value, err := parseCredentialLine(a)
		if err != nil {
			return nil, nil, fmt.Errorf("-credential %v", err)
		}
		if fromFlags[name] {
			return nil, nil, fmt.Errorf("-credential %s is given twice; keep one", name)
		}
		fromFlags[name] = true
		creds[name] = value
	}
	total := 0
	for _, name := range sortedNames(creds) {
		value := creds[name]
		if err := qemu.CheckCredentialName(name); err != nil {
			return nil, nil, fmt.Errorf("%v; systemd accepts only file names", err)
		}
		if !imds.Allowed(name, allow) {
			return nil, nil, fmt.Errorf("credential %q is not on the image's credential allowlist (%s), so no service would read it; use one of those names", name, strings.Join(allow, " "))
		}
		if via == "fw_cfg" && len(name) > qemu.MaxFwCfgCredentialName {
			return nil, nil, fmt.Errorf("credential %q is longer than the %d bytes a fw_cfg name carries; use -credential-via smbios", name, qemu.MaxFwCfgCredentialName)
		}
		if via == "smbios" && strings.ContainsRune(value, 0) {
			return nil, nil, fmt.Errorf("credential %q holds a NUL byte, which an SMBIOS string cannot; use -credential-via fw_cfg", name)
		}
		total += len(value)
	}
	if total > credentialsTotalMax {
		return nil, nil, fmt.Errorf("the credentials hold %d bytes, more than systemd's limit of %d for all of them together; move large values into the image", total, credentialsTotalMax)
	}
	if len(creds) == 0 {
		return nil, nil, nil
	}
	if via == "smbios" {
		return creds, nil, nil
	}
	return nil, creds, nil
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

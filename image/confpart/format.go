// Package confpart is per-instance configuration for bare metal and USB
// sticks: a small FAT partition labelled "appliance-config" that an operator
// edits after writing the image, from any OS, without touching the
// verified root. It holds appliance.conf, one systemd credential per line
// (name=value), and, when the image only accepts signed configuration,
// appliance.conf.sig (a detached OpenPGP signature).
//
// The boot side (Run, binary appliance-config) reads the partition mounted
// read-only, checks every credential against the hardening profile's
// allowlist and the limits, and writes /run/credstore (image/credstore)
// before the daemons start. The operator side (`appliance configure`)
// writes the partition of an image file or block device with mtools.
package confpart

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/supernode-appliance/appliance/image/credstore"
)

// The partition and the files on it.
const (
	PartLabel = "appliance-config"
	// TypeBasicData (Microsoft basic data) is the partition type every OS
	// mounts when the stick is plugged in; an ESP is hidden by Windows and
	// macOS and the root is read-only.
	TypeBasicData = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
	ConfFile      = "appliance.conf"
	SigFile       = "appliance.conf.sig"
	// NewFile and NewSig are what `appliance configure` writes before it
	// swaps them in (see Pick): an interrupted write leaves a readable
	// configuration, the old one or the new one.
	NewFile = "appliance.new"
	NewSig  = "appliance.new.sig"
)

// Limits: the same as cloud user data (image/imds).
const (
	DefaultMaxFile  = 64 << 10
	DefaultMaxValue = 16 << 10
	DefaultMaxCount = 64
	MaxSig          = 16 << 10
)

// Policy is what a configuration may contain.
type Policy struct {
	Allow    []string // credential name globs, from the hardening profile
	MaxFile  int
	MaxValue int
	MaxCount int
}

func (p Policy) withDefaults() Policy {
	if p.MaxFile == 0 {
		p.MaxFile = DefaultMaxFile
	}
	if p.MaxValue == 0 {
		p.MaxValue = DefaultMaxValue
	}
	if p.MaxCount == 0 {
		p.MaxCount = DefaultMaxCount
	}
	return p
}

// CheckName is credstore.CheckName plus the names this partition cannot
// carry: network.* credentials are whole networkd files (several lines),
// read by systemd-network-generator before this partition is read.
func CheckName(name string, allow []string) error {
	if err := credstore.CheckName(name, allow); err != nil {
		return err
	}
	if strings.HasPrefix(name, "network.") {
		return fmt.Errorf("name %q is a multi-line networkd file read before the configuration partition; supply it through SMBIOS or fw_cfg instead", name)
	}
	return nil
}

// Line is one line of appliance.conf: a setting, or anything else kept as
// written (comments, blank lines) so an edit by `appliance configure`
// keeps the operator's notes.
type Line struct {
	Raw     string // without the line ending
	Setting bool   // false for comments and blank lines
	Name    string
	Value   string
	NoEqual bool // a setting line without '=' (an error for Parse)
}

// Document is appliance.conf as lines, for editing.
type Document struct{ Lines []Line }

// Split reads b into lines without judging them (Parse judges). A UTF-8
// byte order mark and CR line endings (Notepad) are accepted.
func Split(b []byte) Document {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	s := strings.TrimSuffix(string(b), "\n")
	var d Document
	if s == "" {
		return d
	}
	for _, raw := range strings.Split(s, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		l := Line{Raw: raw}
		t := strings.TrimSpace(raw)
		if t != "" && t[0] != '#' && t[0] != ';' {
			n, v, ok := strings.Cut(t, "=")
			l.Setting, l.Name, l.Value, l.NoEqual = true, strings.TrimSpace(n), strings.TrimSpace(v), !ok
		}
		d.Lines = append(d.Lines, l)
	}
	return d
}

// Bytes renders the document, LF line endings.
func (d Document) Bytes() []byte {
	var b strings.Builder
	for _, l := range d.Lines {
		b.WriteString(l.Raw)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Get returns the value of name.
func (d Document) Get(name string) (string, bool) {
	for _, l := range d.Lines {
		if l.Setting && l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// Set replaces the value of name in place (every occurrence), or appends it.
func (d *Document) Set(name, value string) {
	found := false
	for i, l := range d.Lines {
		if l.Setting && l.Name == name {
			d.Lines[i] = Line{Raw: name + "=" + value, Setting: true, Name: name, Value: value}
			found = true
		}
	}
	if !found {
		d.Lines = append(d.Lines, Line{Raw: name + "=" + value, Setting: true, Name: name, Value: value})
	}
}

// Unset removes every line that sets name and reports whether one did.
func (d *Document) Unset(name string) bool {
	out := d.Lines[:0]
	found := false
	for _, l := range d.Lines {
		if l.Setting && l.Name == name {
			found = true
			continue
		}
		out = append(out, l)
	}
	d.Lines = out
	return found
}

// Parse checks a whole appliance.conf and returns its credentials in file
// order, or the first problem as one sentence naming the line. One bad
// line rejects the file: half a configuration is one nobody wrote.
func Parse(b []byte, p Policy) ([]credstore.Credential, error) {
	p = p.withDefaults()
	if len(b) > p.MaxFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d", ConfFile, len(b), p.MaxFile)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return nil, fmt.Errorf("%s has a NUL byte at line %d; it must be a text file", ConfFile, bytes.Count(b[:i], []byte("\n"))+1)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%s is not UTF-8 text; save it as UTF-8", ConfFile)
	}
	var out []credstore.Credential
	first := map[string]int{}
	for i, l := range Split(b).Lines {
		n := i + 1
		if !l.Setting {
			continue
		}
		if l.NoEqual {
			return nil, fmt.Errorf("%s line %d has no '=': write name=value", ConfFile, n)
		}
		if err := CheckName(l.Name, p.Allow); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", ConfFile, n, err)
		}
		if m, ok := first[l.Name]; ok {
			return nil, fmt.Errorf("%s line %d sets %q again (first on line %d); keep one", ConfFile, n, l.Name, m)
		}
		first[l.Name] = n
		for _, r := range l.Value {
			if r < 0x20 && r != '\t' || r == 0x7f {
				return nil, fmt.Errorf("%s line %d: the value of %q has a control character (%U)", ConfFile, n, l.Name, r)
			}
		}
		if len(l.Value) > p.MaxValue {
			return nil, fmt.Errorf("%s line %d: the value of %q is %d bytes, more than the limit of %d", ConfFile, n, l.Name, len(l.Value), p.MaxValue)
		}
		if len(out) == p.MaxCount {
			return nil, fmt.Errorf("%s has more than %d settings, the limit", ConfFile, p.MaxCount)
		}
		out = append(out, credstore.Credential{Name: l.Name, Value: []byte(l.Value)})
	}
	return out, nil
}

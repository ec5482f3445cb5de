package credstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultCredStore is where the one-shots (and systemd-imds after them)
// write. ImportCredential= searches, first match wins (systemd.exec(5),
// src/core/exec-credential.c): the system credentials PID 1 received
// (SMBIOS type 11, fw_cfg, the kernel command line; in
// /run/credentials/@system), then /etc/credstore, /run/credstore,
// /usr/local/lib/credstore, /usr/lib/credstore. So a credential the
// hypervisor or the image already supplies wins over the metadata service
// whatever we write; we do not even write it, to keep the store honest.
const DefaultCredStore = "/run/credstore"

// DefaultShadowDirs are the stores searched before DefaultCredStore.
var DefaultShadowDirs = []string{"/run/credentials/@system", "/etc/credstore"}

// Outcome says what happened to one credential.
type Outcome struct {
	Name   string
	Status string // "written", "unchanged", "kept", "shadowed"
	Where  string // for kept/shadowed: the file that wins
}

// WriteStore writes each credential into dir (created 0700) as a file of
// mode 0400 (what systemd-imds writes), atomically: a temporary file in
// the same directory, synced, then linked into place with link(2), which
// unlike rename(2) never replaces a file that appeared meanwhile. A credential that already exists in dir
// with other content came from another source in this boot and is kept;
// one in a shadow dir is skipped. Nothing is ever removed.
func WriteStore(dir string, shadow []string, creds []Credential) ([]Outcome, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create credential store %s: %v", dir, err)
	}
	var out []Outcome
	for _, c := range creds {
		if w := shadowedBy(shadow, c.Name); w != "" {
			out = append(out, Outcome{c.Name, "shadowed", w})
			continue
		}
		dst := filepath.Join(dir, c.Name)
		if old, err := os.ReadFile(dst); err == nil {
			st := "kept"
			if bytes.Equal(old, c.Value) {
				st = "unchanged"
			}
			out = append(out, Outcome{c.Name, st, dst})
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return out, fmt.Errorf("cannot read %s: %v", dst, err)
		}
		if err := writeNew(dir, c.Name, c.Value); err != nil {
			return out, err
		}
		out = append(out, Outcome{c.Name, "written", dst})
	}
	return out, nil
}

func shadowedBy(dirs []string, name string) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Lstat(p); err == nil {
			return p
		}
	}
	return ""
}

// writeNew creates dir/name with content b; it fails if the name appeared
// meanwhile (link(2) does not replace, unlike rename(2)).
func writeNew(dir, name string, b []byte) error {
	f, err := os.CreateTemp(dir, ".cred-*")
	if err != nil {
		return fmt.Errorf("cannot write credential %s: %v", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o400)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("cannot write credential %s: %v", name, err)
	}
	return nil
}

// Consumers returns the daemons (the part of a credential name before its
// first dot) that received a newly written credential, sorted, once each.
// A daemon already running when we wrote (supernode-xdp attaches before
// the network exists) must restart to read them.
func Consumers(out []Outcome) []string {
	seen := map[string]bool{}
	var l []string
	for _, o := range out {
		d, _, _ := strings.Cut(o.Name, ".")
		if o.Status == "written" && !seen[d] {
			seen[d] = true
			l = append(l, d)
		}
	}
	sort.Strings(l)
	return l
}

// WriteFileAtomic replaces path with b (mode 0600, directory created 0700):
// temporary file in the same directory, sync, rename. A crash leaves the
// old file or the new one, never a mix. For the last good documents.
func WriteFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	return err
}

// Report writes one line per outcome to w, each starting with prog: what
// was imported (suffix says from where), and which credential another
// source keeps or a firmware or image credential shadows. An unchanged
// credential says nothing.
func Report(w io.Writer, prog string, outcomes []Outcome, suffix string) {
	for _, o := range outcomes {
		switch o.Status {
		case "written":
			fmt.Fprintf(w, "%s: imported credential %s%s\n", prog, o.Name, suffix)
		case "kept":
			fmt.Fprintf(w, "%s: credential %s already in %s from another source; kept it\n", prog, o.Name, o.Where)
		case "shadowed":
			fmt.Fprintf(w, "%s: credential %s not imported: %s (firmware or image) takes precedence\n", prog, o.Name, o.Where)
		}
	}
}

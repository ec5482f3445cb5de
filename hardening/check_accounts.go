package hardening

import (
	"fmt"
	"os"
	"strings"
)

// readDB reads a colon-separated account database (passwd(5), shadow(5)).
func readDB(root, path string, minFields int) ([][]string, error) {
	b, err := os.ReadFile(inRoot(root, path))
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= minFields && !strings.HasPrefix(line, "#") {
			out = append(out, f)
		}
	}
	return out, nil
}

// describePW says what a password field is without revealing a hash.
func describePW(pw string) string {
	switch {
	case pw == "":
		return "empty (login without password)"
	case pwLocked(pw) && len(pw) > 2:
		return "locked hash"
	case pwLocked(pw):
		return fmt.Sprintf("locked (%q)", pw)
	}
	return "usable password hash"
}

func checkRootLocked(c *Control, t *Target) (bool, []Evidence, error) {
	db, err := readDB(t.Root, "/etc/shadow", 2)
	if err != nil {
		return false, nil, errAt("/etc/shadow", "unreadable: "+unwrapPath(err).Error(), "the shadow database", err)
	}
	for _, f := range db {
		if f[0] == "root" {
			ok := pwLocked(f[1])
			return ok, []Evidence{{Where: "/etc/shadow", Found: "root: " + describePW(f[1]), Expected: "locked (! or *)", OK: ok}}, nil
		}
	}
	return false, []Evidence{{Where: "/etc/shadow", Found: "no root entry", Expected: "root locked"}}, nil
}

func checkNoPasswords(c *Control, t *Target) (bool, []Evidence, error) {
	db, err := readDB(t.Root, "/etc/shadow", 2)
	if err != nil {
		return false, nil, errAt("/etc/shadow", "unreadable: "+unwrapPath(err).Error(), "the shadow database", err)
	}
	var ev []Evidence
	for _, f := range db {
		if !pwLocked(f[1]) {
			ev = append(ev, Evidence{Where: "/etc/shadow", Found: f[0] + ": " + describePW(f[1]), Expected: "locked"})
		}
	}
	// passwd(5): a password in the second field of passwd bypasses shadow.
	if pdb, err := readDB(t.Root, "/etc/passwd", 7); err == nil {
		for _, f := range pdb {
			if f[1] != "x" && !pwLocked(f[1]) {
				ev = append(ev, Evidence{Where: "/etc/passwd", Found: f[0] + ": password in passwd (" + describePW(f[1]) + ")", Expected: "x"})
			}
		}
	}
	if len(ev) == 0 {
		return true, []Evidence{{Where: "/etc/shadow", Found: fmt.Sprintf("%d accounts, all locked", len(db)), Expected: "all locked", OK: true}}, nil
	}
	return false, ev, nil
}

func checkNologin(c *Control, t *Target) (bool, []Evidence, error) {
	db, err := readDB(t.Root, "/etc/passwd", 7)
	if err != nil {
		return false, nil, errAt("/etc/passwd", "unreadable: "+unwrapPath(err).Error(), "the account database", err)
	}
	var ev []Evidence
	for _, f := range db {
		if loginShell(f[6]) {
			ev = append(ev, Evidence{Where: "/etc/passwd", Found: f[0] + ": " + f[6], Expected: nologinShell})
		}
	}
	if len(ev) == 0 {
		return true, []Evidence{{Where: "/etc/passwd", Found: fmt.Sprintf("%d accounts, none with a login shell", len(db)), Expected: "no login shell", OK: true}}, nil
	}
	return false, ev, nil
}

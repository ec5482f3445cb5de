// Package conf is the one configuration loader of the appliance's daemons.
//
// A config file is a list of "key = value" lines; '#' starts a comment, blank
// lines are ignored, and list values are comma-separated. Every daemon compiles
// its defaults into a struct whose fields carry a `conf:"key"` tag; Load
// overlays, in order:
//
//  1. the file named on the command line (a missing default path is fine),
//  2. the systemd credential "<name>.conf" (a whole file in the same format),
//  3. the systemd credentials "<name>.<key>" (one value each),
//
// so one image boots as many different instances as it has credential sets
// (systemd.exec(5), LoadCredential=/SetCredential=, and the "ImportCredential="
// of systemd 254+). After the overlays, Validate() is called if the struct has
// it. Every error is one sentence that names the file, line and key.
package conf

import (
	"bufio"
	"encoding"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Validator is implemented by config structs that check their values after
// loading (ranges, cross-field rules). Its error should name the key.
type Validator interface {
	Validate() error
}

// Load fills dst (a pointer to a struct with `conf` tags, already holding the
// defaults) from path and from the systemd credentials for name. If path is
// empty no file is read; if mustExist is false a missing file is not an error
// (so a default path like /etc/supernode/supernode.conf may be absent).
func Load(dst any, name, path string, mustExist bool) error {
	fields, err := fieldsOf(dst)
	if err != nil {
		return err
	}
	origins := map[string]string{} // key -> where it was set last
	if path != "" {
		f, err := os.Open(path)
		switch {
		case err == nil:
			err = parse(f, path, fields, origins)
			f.Close()
			if err != nil {
				return err
			}
		case errors.Is(err, os.ErrNotExist) && !mustExist:
		default:
			return fmt.Errorf("cannot read config file %s: %v; check the path given with -config", path, errors.Unwrap(err))
		}
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" && name != "" {
		if err := loadCredentials(dir, name, fields, origins); err != nil {
			return err
		}
	}
	if v, ok := dst.(Validator); ok {
		if err := v.Validate(); err != nil {
			return locate(err, fields, origins)
		}
	}
	return nil
}

// locate puts where the offending key was set in front of a validation
// error: the key is the first known key the error names (validators name
// the key, see Validator). A key left at its default says so.
func locate(err error, fields map[string]reflect.Value, origins map[string]string) error {
	msg := err.Error()
	key, at := "", len(msg)+1
	for k := range fields {
		if i := wordIndex(msg, k); i >= 0 && (i < at || i == at && len(k) > len(key)) {
			key, at = k, i
		}
	}
	switch {
	case key == "":
		return fmt.Errorf("invalid configuration: %w", err)
	case origins[key] != "":
		return fmt.Errorf("%s: %w", origins[key], err)
	default:
		return fmt.Errorf("invalid configuration (%s is at its default): %w", key, err)
	}
}

// wordIndex is the index of key in s as a whole word (not inside a longer
// key such as fleet_bind_x), or -1.
func wordIndex(s, key string) int {
	isWord := func(b byte) bool {
		return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
	}
	for off := 0; ; {
		i := strings.Index(s[off:], key)
		if i < 0 {
			return -1
		}
		i += off
		end := i + len(key)
		if (i == 0 || !isWord(s[i-1])) && (end == len(s) || !isWord(s[end])) {
			return i
		}
		off = i + 1
	}
}

// Parse reads one config document from r into dst without credentials or
// validation; source names it in errors. Used by tests and by reload paths
// that validate themselves.
func Parse(dst any, r io.Reader, source string) error {
	fields, err := fieldsOf(dst)
	if err != nil {
		return err
	}
	return parse(r, source, fields, map[string]string{})
}

func loadCredentials(dir, name string, fields map[string]reflect.Value, origins map[string]string) error {
	whole := filepath.Join(dir, name+".conf")
	if f, err := os.Open(whole); err == nil {
		err = parse(f, "credential "+name+".conf", fields, origins)
		f.Close()
		if err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot list systemd credentials in %s: %v", dir, err)
	}
	prefix := name + "."
	for _, e := range entries {
		cred := e.Name()
		if !strings.HasPrefix(cred, prefix) || cred == name+".conf" {
			continue
		}
		key := strings.TrimPrefix(cred, prefix)
		v, ok := fields[key]
		if !ok {
			// Credentials for other consumers (e.g. "supernode.fleet-key" read
			// by a subsystem itself) are not ours to reject unless they look
			// like a key with a typo; keep the loader strict only for files.
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, cred))
		if err != nil {
			return fmt.Errorf("cannot read systemd credential %s: %v", cred, err)
		}
		if err := set(v, strings.TrimSpace(string(b))); err != nil {
			return fmt.Errorf("systemd credential %s: bad value for %q: %v", cred, key, err)
		}
		origins[key] = "systemd credential " + cred
	}
	return nil
}

// parse reads one document; a key may appear once in it (a second line
// would silently win, hiding the first from whoever reads the file).
// origins records where each key was set.
func parse(r io.Reader, source string, fields map[string]reflect.Value, origins map[string]string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	line := 0
	seen := map[string]int{}
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("%s line %d: expected \"key = value\", got %q", source, line, text)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		v, ok := fields[key]
		if !ok {
			return fmt.Errorf("%s line %d: unknown key %q; known keys are %s", source, line, key, knownKeys(fields))
		}
		if first, dup := seen[key]; dup {
			return fmt.Errorf("%s line %d: %q is already set on line %d; keep one of the two lines", source, line, key, first)
		}
		seen[key] = line
		if err := set(v, value); err != nil {
			return fmt.Errorf("%s line %d: bad value for %q: %v", source, line, key, err)
		}
		origins[key] = fmt.Sprintf("%s line %d", source, line)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", source, err)
	}
	return nil
}

func knownKeys(fields map[string]reflect.Value) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// Keys lists the keys dst accepts, sorted; for --help output and docs.
func Keys(dst any) []string {
	fields, err := fieldsOf(dst)
	if err != nil {
		return nil
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fieldsOf(dst any) (map[string]reflect.Value, error) {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("conf: destination must be a pointer to a struct, got %T", dst)
	}
	fields := map[string]reflect.Value{}
	collect(rv.Elem(), fields)
	return fields, nil
}

// collect walks embedded and nested structs too, so a daemon can embed a
// shared block (for example the management listener settings).
func collect(s reflect.Value, fields map[string]reflect.Value) {
	t := s.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("conf")
		if tag == "-" {
			continue
		}
		if tag == "" {
			if f.Type.Kind() == reflect.Struct && !implementsText(s.Field(i)) {
				collect(s.Field(i), fields)
			}
			continue
		}
		fields[tag] = s.Field(i)
	}
}

func implementsText(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(encoding.TextUnmarshaler)
	return ok
}

var durationType = reflect.TypeOf(time.Duration(0))

// describeType names what a TextUnmarshaler field accepts, for errors.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(netip.Addr{}):
		return "an IP address (e.g. 192.0.2.1 or 2001:db8::1)"
	case reflect.TypeOf(netip.Prefix{}):
		return "an address with a prefix length (e.g. 192.0.2.0/24 or 2001:db8::/32)"
	case reflect.TypeOf(netip.AddrPort{}):
		return "an address and port (e.g. 192.0.2.1:3478 or [2001:db8::1]:3478)"
	}
	if d, ok := reflect.New(t).Interface().(interface{ ConfDescription() string }); ok {
		return d.ConfDescription()
	}
	return "a valid " + t.Name()
}

// set parses value into v. Lists are comma-separated; an empty value empties
// a list. Anything implementing encoding.TextUnmarshaler (netip.Addr,
// netip.Prefix, netip.AddrPort, ...) parses itself.
func set(v reflect.Value, value string) error {
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
			if err := u.UnmarshalText([]byte(value)); err != nil {
				// The parser's own text (e.g. netip's `ParseAddr("x"):
				// unable to parse IP`) is for programmers; say what is wanted.
				return fmt.Errorf("%q is not %s", value, describeType(v.Type()))
			}
			return nil
		}
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%q is not a duration (use forms like 30s, 5m, 1h)", value)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (use true or false)", value)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(value, 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer that fits %d bits", value, v.Type().Bits())
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(value, 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer that fits %d bits", value, v.Type().Bits())
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		v.SetFloat(n)
	case reflect.Slice:
		parts := splitList(value)
		if len(parts) == 0 {
			v.SetZero() // "key =" means no list, the same as the default nil
			return nil
		}
		s := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := set(s.Index(i), p); err != nil {
				return fmt.Errorf("list item %d: %v", i+1, err)
			}
		}
		v.Set(s)
	default:
		return fmt.Errorf("conf: unsupported field type %s", v.Type())
	}
	return nil
}

func splitList(value string) []string {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	raw := strings.Split(value, ",")
	out := make([]string, 0, len(raw))
	for _, p := range raw {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

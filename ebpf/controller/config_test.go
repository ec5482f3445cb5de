package controller

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/supernode-appliance/appliance/internal/conf"
)

// The shipped example file documents every key with its default. With the
// "#key = value" lines uncommented it must parse to exactly DefaultConfig,
// so the file and the code cannot drift apart.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	b, err := os.ReadFile("../supernode-xdp.conf")
	if err != nil {
		t.Fatal(err)
	}
	uncomment := regexp.MustCompile(`(?m)^#([a-z_]+ =.*)$`)
	text := uncomment.ReplaceAllString(string(b), "$1")
	got := DefaultConfig()
	// Start from a zero value so every key has to come from the file.
	got = Config{}
	if err := conf.Parse(&got, strings.NewReader(text), "supernode-xdp.conf"); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Errorf("shipped config differs from DefaultConfig:\n file: %+v\n code: %+v", got, want)
	}
	// And every key is documented.
	for _, k := range conf.Keys(&want) {
		if !strings.Contains(string(b), "#"+k+" =") {
			t.Errorf("key %s is not documented in supernode-xdp.conf", k)
		}
	}
}

// normalise treats nil and empty lists alike, in the embedded filter
// policy too.
func normalise(c Config) Config {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch {
			case f.Kind() == reflect.Slice && f.Len() == 0:
				f.Set(reflect.Zero(f.Type()))
			case f.Kind() == reflect.Struct && v.Type().Field(i).Anonymous:
				walk(f)
			}
		}
	}
	walk(reflect.ValueOf(&c).Elem())
	return c
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string // a word the one-sentence error must contain
	}{
		{"no interfaces", func(c *Config) { c.Interfaces = nil }, "interfaces"},
		{"bad pattern", func(c *Config) { c.Interfaces = []string{"en["} }, "glob"},
		{"bad mode", func(c *Config) { c.Mode = "turbo" }, "mode"},
		{"relative pin dir", func(c *Config) { c.PinDir = "bpf" }, "pin_dir"},
		{"relative socket", func(c *Config) { c.ControlSocket = "x.sock" }, "control_socket"},
		{"fast rescan", func(c *Config) { c.Rescan = 0 }, "rescan_interval"},
		{"zero ttl", func(c *Config) { c.MaxBlockTTL = 0 }, "max_block_ttl"},
		{"filter policy", func(c *Config) { c.STUNPorts = []uint16{9999} }, "STUN port"},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

func TestMatches(t *testing.T) {
	c := DefaultConfig()
	for name, want := range map[string]bool{"eth0": true, "enp3s0": true, "ens5": true, "lo": false, "wlan0": false, "veth1": false} {
		if got := c.matches(name); got != want {
			t.Errorf("matches(%q) = %v, want %v", name, got, want)
		}
	}
}

package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/supernode-appliance/appliance/internal/conf"
)

// TestShippedConfigIsTheDefaults keeps supernode/supernode.conf honest: it
// must parse, validate, name every key, and state the compiled-in values.
func TestShippedConfigIsTheDefaults(t *testing.T) {
	f, err := os.Open("../../../supernode.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := config{}
	if err := conf.Parse(&got, f, "supernode.conf"); err != nil {
		t.Fatal(err)
	}
	want := defaults()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("supernode.conf states\n%+v\ndefaults are\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile("../../../supernode.conf")
	for _, k := range conf.Keys(&got) {
		if !strings.Contains("\n"+string(body), "\n"+k+" =") {
			t.Errorf("supernode.conf does not document %q", k)
		}
	}
}

func TestBadValueNamesKey(t *testing.T) {
	c := defaults()
	c.Lease = time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("got %v", err)
	}
}

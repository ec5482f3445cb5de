package fleet

import (
	"testing"

	"github.com/supernode-appliance/appliance/supernode/server"
)

func TestAttach(t *testing.T) {
	sc := server.Defaults()
	n, bind, err := Attach(&sc, DefaultConfig(), nil, nil)
	if err != nil || n != nil || sc.Store != nil {
		t.Fatalf("without fleet_bind: node %v, store %v, err %v", n, sc.Store, err)
	}
	bind(nil)
	if err := n.Close(); err != nil {
		t.Fatalf("closing the nil node: %v", err)
	}

	fc := fastConfig(t, "solo", newKey(t), nil)
	n, bind, err = Attach(&sc, fc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, ok := sc.Store.(*Directory); !ok {
		t.Fatalf("store is %T, want the fleet Directory", sc.Store)
	}
	if _, ok := sc.Store.(server.Introducer); !ok {
		t.Fatal("the store does not route introductions")
	}
	bind(nil)
}

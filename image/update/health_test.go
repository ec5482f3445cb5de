package update

import "testing"

func TestParseUnitStates(t *testing.T) {
	out := "Id=supernode.service\nActiveState=activating\nNRestarts=68\n\nId=supernode-xdp.service\nActiveState=active\nNRestarts=0\n\nId=appliance-audit.service\nActiveState=active\nNRestarts=0\n"
	got := parseUnitStates(out)
	if len(got) != 3 || got["supernode.service"] != (unitState{"activating", 68}) || got["supernode-xdp.service"] != (unitState{"active", 0}) {
		t.Fatalf("%+v", got)
	}
}

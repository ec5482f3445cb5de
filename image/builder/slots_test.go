package builder

import "testing"

func TestCheckSlotVersion(t *testing.T) {
	for _, v := range []string{"1.2.3", "0.1.0-dev+g57793ce.dirty", "0.1.1-dev+12.g57793ce"} {
		if err := CheckSlotVersion(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"", "1.2.3_x", "1.2/3", "-1", "0.1.1-dev+1234.g57793ce12.dirty"} {
		if err := CheckSlotVersion(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	if UKIFileName("1.2.3") != "supernode_1.2.3_uki.efi" || SlotLabel("1.2.3") != "supernode_1.2.3" {
		t.Error("names")
	}
}

package daemon

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(BuildInfo("BOOT_IMAGE=x roothash=aaaa ro roothash=bbbb quiet"))
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "supernode_build_info" || len(mfs[0].Metric) != 1 || mfs[0].Metric[0].GetGauge().GetValue() != 1 {
		t.Fatalf("gathered %v, %v", mfs, err)
	}
	got := map[string]string{}
	for _, l := range mfs[0].Metric[0].Label {
		got[l.GetName()] = l.GetValue()
	}
	if got["version"] != Version || got["root_hash"] != "bbbb" || got["commit"] == "" {
		t.Fatalf("labels %v (the last roothash= wins, as for the kernel)", got)
	}
	if RootHash("ro quiet") != "" {
		t.Fatal("no roothash= must give an empty root hash")
	}
}

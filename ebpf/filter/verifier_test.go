package filter

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/supernode-appliance/appliance/tests/testenv"
)

// verifierHeadroom is the share of the verifier's budget (a million
// processed instructions) the program may use on this kernel. A program
// close to the budget is one kernel release away from being refused at
// boot, which leaves the appliance unfiltered; the verification time is
// also a fixed cost of every boot (about 8 s under QEMU TCG at 517,019
// instructions, before msg_crc32, msg_sum16 and addr_sum became global
// functions).
const verifierHeadroom = 0.4

var processed = regexp.MustCompile(`processed (\d+) insns \(limit (\d+)\)`)

// TestVerifierBudget loads the program with the verifier's statistics and
// fails when it uses more than verifierHeadroom of the budget.
func TestVerifierBudget(t *testing.T) {
	testenv.RequireRoot(t)
	spec, err := loadXdp()
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	log := coll.Programs["xdp_filter"].VerifierLog
	m := processed.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no statistics in the verifier log: %q", log)
	}
	n, _ := strconv.Atoi(m[1])
	limit, _ := strconv.Atoi(m[2])
	t.Logf("the verifier processed %d of %d instructions", n, limit)
	if float64(n) > verifierHeadroom*float64(limit) {
		t.Errorf("the verifier processed %d instructions, more than %.0f%% of its limit of %d: split the program further (global functions are verified once, on their own)", n, 100*verifierHeadroom, limit)
	}
}

package hardening

import "testing"

// Loading the embedded profile happens at every audit and every build.
func BenchmarkDefaultProfile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}

// An idempotent re-apply: what a rebuild with an unchanged profile costs.
func BenchmarkApplyIdempotent(b *testing.B) {
	p, _ := Default()
	root := fakeRoot(b)
	if _, err := p.Apply(root, ApplyOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if ch, err := p.Apply(root, ApplyOptions{}); err != nil || len(ch) != 0 {
			b.Fatal(err, ch)
		}
	}
}

package filter

import "testing"

func TestSmokeLoad(t *testing.T) {
	f, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Configure(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	t.Log(Reasons())
}

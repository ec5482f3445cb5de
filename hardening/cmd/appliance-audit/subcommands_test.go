package main

import (
	"strings"
	"testing"
)

func TestCoverageCommand(t *testing.T) {
	code, out, errs := runCLI("coverage")
	if code != 0 || !strings.Contains(out, "CIS Debian Linux 12") || !strings.Contains(out, "Open in") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCLI("coverage", "--markdown")
	if code != 0 || !strings.HasPrefix(out, "| reference |") {
		t.Errorf("markdown: exit %d: %s", code, out)
	}
	if code, _, errs := runCLI("coverage", "--bogus"); code != 2 || !strings.Contains(errs, "see --help") {
		t.Errorf("bad flag: exit %d: %s", code, errs)
	}
}

package main

import (
	"io"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// newUI is the terminal UI for the builder: progress and summary on stdout,
// errors on stderr, no prompts.
func newUI(stdout, stderr io.Writer) packersdk.Ui {
	return &packersdk.BasicUi{Writer: stdout, ErrorWriter: stderr}
}

// Package hardening holds the appliance's hardening profile (a declarative,
// versioned HCL file of controls, embedded in the binary), the code that
// applies it to a root filesystem for the image builder, and the audit that
// verifies it offline on a built image or live on a running appliance.
//
// Every control names its reason and its references (KSPP recommended
// settings, CIS Debian Linux 12 Benchmark v1.1.0, DISA STIG where one
// exists); every change Apply makes and every audit result carries the id of
// the control it comes from.
package hardening

import (
	_ "embed"
	"errors"
	"fmt"
	"github.com/supernode-appliance/appliance/internal/inventory"
	"github.com/zclconf/go-cty/cty"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

//go:embed profile.hcl
var defaultProfile []byte

// DefaultProfileName is the name the embedded profile reports in errors.
const DefaultProfileName = "profile.hcl (embedded)"

// Profile is a loaded, validated hardening profile.
type Profile struct {
	Version  string
	Name     string
	Controls []*Control
	byID     map[string]*Control
}

// Control is one hardening control: what to set, why, where it comes from,
// how Apply sets it and how the audit checks it.
type Control struct {
	ID        string
	Title     string
	Rationale string
	Severity  string // low, medium, high, critical
	Refs      References
	Apply     string            // apply method (see methods.go)
	Check     string            // check method (see methods.go)
	Key       string            // method parameter: a path, unit, mount point...
	Expect    string            // expected value for Key
	Values    []string          // method parameter list: modules, paths, ports...
	Settings  map[string]string // key -> expected value (sysctl, cmdline, ini)
	Scope     []string          // "image", "live" (default both)
	Debug     string            // "exempt": relaxed in debug images
	Kernel    string            // a kernel flavour: only that flavour must meet it
	Exception *Deviation
	Pos       string // file:line of the control block
}

// References are the public documents a control comes from.
type References struct {
	KSPP  []string `hcl:"kspp,optional"`
	CIS   []string `hcl:"cis,optional"`
	STIG  []string `hcl:"stig,optional"`
	Other []string `hcl:"other,optional"`
}

// Deviation records a deliberate deviation from a reference recommendation.
// The audit reports the control as "exception" instead of "fail", but only
// while every compensating control passes.
type Deviation struct {
	Justification string   `hcl:"justification"`
	CompensatedBy []string `hcl:"compensated_by,optional"`
}

// file is the HCL schema; gohcl rejects unknown arguments and blocks, so a
// typo in the profile is a load error, not a silently ignored control.
type file struct {
	Version  string        `hcl:"version"`
	Name     string        `hcl:"name"`
	Controls []controlBody `hcl:"control,block"`
}

type controlBody struct {
	ID        string            `hcl:"id,label"`
	Title     string            `hcl:"title"`
	Rationale string            `hcl:"rationale"`
	Severity  string            `hcl:"severity"`
	Refs      *References       `hcl:"references,block"`
	Apply     string            `hcl:"apply"`
	Check     string            `hcl:"check"`
	Key       string            `hcl:"key,optional"`
	Expect    string            `hcl:"expect,optional"`
	Values    []string          `hcl:"values,optional"`
	Settings  map[string]string `hcl:"settings,optional"`
	Scope     []string          `hcl:"scope,optional"`
	Debug     string            `hcl:"debug,optional"`
	Kernel    string            `hcl:"kernel,optional"`
	Exception *Deviation        `hcl:"exception,block"`
}

// Default returns the profile embedded in the binary.
func Default() (*Profile, error) {
	return Parse(DefaultProfileName, defaultProfile)
}

// DefaultSource returns the embedded profile file as written.
func DefaultSource() []byte { return append([]byte(nil), defaultProfile...) }

// Load reads and validates a profile file.
func Load(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hardening profile: %w", err)
	}
	return Parse(path, b)
}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

var severities = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}

// Parse decodes and validates a profile. The error is one sentence naming
// the file, line and control and what to change.
func Parse(name string, src []byte) (*Profile, error) {
	p := hclparse.NewParser()
	f, diags := p.ParseHCL(src, name)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	var raw file
	if diags := gohcl.DecodeBody(f.Body, inventoryContext(), &raw); diags.HasErrors() {
		return nil, diagError(diags)
	}
	if !versionRE.MatchString(raw.Version) {
		return nil, fmt.Errorf("%s: version %q is not MAJOR.MINOR.PATCH; set version = \"1.0.0\" style", name, raw.Version)
	}
	// gohcl keeps block order, so the syntax tree gives each control's line.
	var lines []int
	if sb, ok := f.Body.(*hclsyntax.Body); ok {
		for _, b := range sb.Blocks {
			if b.Type == "control" {
				lines = append(lines, b.DefRange().Start.Line)
			}
		}
	}
	prof := &Profile{Version: raw.Version, Name: raw.Name, byID: map[string]*Control{}}
	for i, cb := range raw.Controls {
		pos := name
		if i < len(lines) {
			pos = fmt.Sprintf("%s:%d", name, lines[i])
		}
		c := &Control{ID: cb.ID, Title: cb.Title, Rationale: strings.TrimSpace(cb.Rationale), Severity: cb.Severity,
			Apply: cb.Apply, Check: cb.Check, Key: cb.Key, Expect: cb.Expect, Values: cb.Values,
			Settings: cb.Settings, Scope: cb.Scope, Debug: cb.Debug, Kernel: cb.Kernel, Exception: cb.Exception, Pos: pos}
		if cb.Refs != nil {
			c.Refs = *cb.Refs
		}
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("%s: control %q: %w", pos, c.ID, err)
		}
		if prev, dup := prof.byID[c.ID]; dup {
			return nil, fmt.Errorf("%s: control %q: duplicate id (first defined at %s); give each control a unique id", pos, c.ID, prev.Pos)
		}
		prof.byID[c.ID] = c
		prof.Controls = append(prof.Controls, c)
	}
	if len(prof.Controls) == 0 {
		return nil, fmt.Errorf("%s: the profile has no control blocks; add at least one control", name)
	}
	// Compensating controls must exist and must not themselves be exceptions,
	// otherwise an exception could be justified by another exception.
	for _, c := range prof.Controls {
		if c.Exception == nil {
			continue
		}
		for _, id := range c.Exception.CompensatedBy {
			cc, ok := prof.byID[id]
			if !ok {
				return nil, fmt.Errorf("%s: control %q: exception compensated_by names unknown control %q; use an existing control id", c.Pos, c.ID, id)
			}
			if cc.Exception != nil {
				return nil, fmt.Errorf("%s: control %q: exception compensated_by names %q, which is itself an exception; compensate with a control that is enforced", c.Pos, c.ID, id)
			}
		}
	}
	return prof, nil
}

func (c *Control) validate() error {
	switch {
	case !idRE.MatchString(c.ID):
		return errors.New("id must be lower-case letters, digits, '.' and '-' (e.g. \"sysctl-kptr-restrict\")")
	case strings.TrimSpace(c.Title) == "":
		return errors.New("title is empty; say in a few words what the control enforces")
	case c.Rationale == "":
		return errors.New("rationale is empty; say why the control matters")
	case !severities[c.Severity]:
		return fmt.Errorf("severity %q is not one of low, medium, high, critical", c.Severity)
	case len(c.Refs.KSPP)+len(c.Refs.CIS)+len(c.Refs.STIG)+len(c.Refs.Other) == 0:
		return errors.New("no references; add a references block citing KSPP, CIS Debian 12 v1.1.0, DISA STIG or another public source")
	case c.Debug != "" && c.Debug != "exempt":
		return fmt.Errorf("debug = %q is not supported; use \"exempt\" or remove it", c.Debug)
	case c.Kernel != "" && !slices.Contains(KernelFlavours, c.Kernel):
		return fmt.Errorf("kernel = %q is not a kernel flavour; use one of %q or remove it", c.Kernel, KernelFlavours)
	}
	for _, s := range c.Scope {
		if s != ScopeImage && s != ScopeLive {
			return fmt.Errorf("scope %q is not \"image\" or \"live\"", s)
		}
	}
	if c.Exception != nil && strings.TrimSpace(c.Exception.Justification) == "" {
		return errors.New("exception has an empty justification; say why the appliance deviates")
	}
	am, ok := applyMethods[c.Apply]
	if !ok {
		return fmt.Errorf("apply method %q is unknown; use one of %s", c.Apply, methodNames(applyMethods))
	}
	cm, ok := checkMethods[c.Check]
	if !ok {
		return fmt.Errorf("check method %q is unknown; use one of %s", c.Check, methodNames(checkMethods))
	}
	if err := am.params.require(c, "apply "+c.Apply); err != nil {
		return err
	}
	return cm.params.require(c, "check "+c.Check)
}

// KernelFlavours are the image's kernels (the template's kernel_flavour).
// A control with kernel = "hardened" checks what only the kernel built from
// image/kernel/hardened.config can meet (its build options); on an image
// that says, in its verified root (KernelFlavourFile), that it runs another
// flavour, a failure of that control is an exception naming the flavour.
var KernelFlavours = []string{"hardened", "cloud", "generic"}

// KernelFlavourFile names, in the verified root, the kernel flavour the
// image was built with (the builder writes it).
const KernelFlavourFile = "/usr/lib/supernode/kernel-flavour"

// Scopes say where a control can be checked.
const (
	ScopeImage = "image"
	ScopeLive  = "live"
)

// InScope reports whether the control is checked in the given scope.
func (c *Control) InScope(scope string) bool {
	if len(c.Scope) == 0 {
		return true
	}
	for _, s := range c.Scope {
		if s == scope {
			return true
		}
	}
	return false
}

// Control returns the control with the given id, or nil.
func (p *Profile) Control(id string) *Control { return p.byID[id] }

// SortedSettings returns the settings keys in a stable order.
func (c *Control) SortedSettings() []string {
	keys := make([]string, 0, len(c.Settings))
	for k := range c.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// References returns every reference as "SOURCE id" strings.
func (c *Control) References() []string {
	var out []string
	for _, r := range c.Refs.KSPP {
		out = append(out, "KSPP "+r)
	}
	for _, r := range c.Refs.CIS {
		out = append(out, "CIS Debian 12 v1.1.0 "+r)
	}
	for _, r := range c.Refs.STIG {
		out = append(out, "DISA STIG RHEL 8 "+r)
	}
	out = append(out, c.Refs.Other...)
	return out
}

func diagError(diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		pos := ""
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d: ", d.Subject.Filename, d.Subject.Start.Line)
		}
		return fmt.Errorf("%s%s: %s", pos, d.Summary, d.Detail)
	}
	return diags
}

// inventoryContext lets the profile name the service inventory instead of
// restating ports: `values = inventory.firewall` is every proto/port that
// a non-loopback address may reach on some appliance (internal/inventory).
func inventoryContext() *hcl.EvalContext {
	var specs []cty.Value
	for _, s := range inventory.FirewallSpecs(inventory.Reachable()) {
		specs = append(specs, cty.StringVal(s))
	}
	return &hcl.EvalContext{Variables: map[string]cty.Value{
		"inventory": cty.ObjectVal(map[string]cty.Value{"firewall": cty.ListVal(specs)}),
	}}
}

package hardening

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The catalogs list every item of each reference the profile cites (CIS
// Debian 12 v1.1.0, KSPP as kernel-hardening-checker lists it, systemd-analyze
// security, the STIG rules cited), each with the appliance's status. They are
// what "coverage" is measured against; see catalog/*.hcl.
//
//go:embed catalog/*.hcl
var catalogFiles embed.FS

// Item statuses.
const (
	Implemented   = "implemented"    // a control enforces it (By)
	Excepted      = "exception"      // a documented deviation (By compensates, Note justifies)
	NotApplicable = "not-applicable" // what it configures is not in the image (Reason)
	Open          = "open"           // not yet implemented
)

// Reference scopes: a complete list is measured in percent; a cited-only
// list exists so every cited id is declared, and is not measured.
const (
	ScopeComplete  = "complete"
	ScopeCitedOnly = "cited-only"
)

// Catalog is every reference catalog, in a stable order.
type Catalog struct {
	References []*Reference
	byKey      map[string]*Reference
}

// Reference is one public document and all of its items.
type Reference struct {
	Key     string // the key profile references use: cis, kspp, stig; or a name
	Title   string
	Scope   string
	File    string
	Reasons map[string]string
	Items   []*Item
	byID    map[string]*Item
}

// Item is one recommendation of a reference and where the appliance stands.
type Item struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Status string   `json:"status"`
	By     []string `json:"by,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Note   string   `json:"note,omitempty"`
	Level  int      `json:"level,omitempty"`         // CIS profile level (1 or 2)
	Want   string   `json:"want,omitempty"`          // KSPP: the value kernel-hardening-checker wants
	Source string   `json:"source,omitempty"`        // KSPP: who recommends it (kspp, defconfig, grsec...)
	Class  string   `json:"class,omitempty"`         // KSPP: kernel-hardening-checker's reason class
	Extra  bool     `json:"extra,omitempty"`         // not in the reference's own list; not measured
	NIST   []string `json:"nist_800_53r5,omitempty"` // CIS: NIST SP 800-53 rev5 controls mapped to it
	Pos    string   `json:"-"`
}

type catalogFile struct {
	Reference []struct {
		Key   string `hcl:"key,label"`
		Title string `hcl:"title"`
		Scope string `hcl:"scope"`
	} `hcl:"reference,block"`
	Reasons []struct {
		Name string `hcl:"name,label"`
		Text string `hcl:"text"`
	} `hcl:"reason,block"`
	Items []struct {
		ID     string   `hcl:"id,label"`
		Title  string   `hcl:"title"`
		Status string   `hcl:"status,optional"`
		By     []string `hcl:"by,optional"`
		Reason string   `hcl:"reason,optional"`
		Note   string   `hcl:"note,optional"`
		Level  int      `hcl:"level,optional"`
		Want   string   `hcl:"want,optional"`
		Source string   `hcl:"source,optional"`
		Class  string   `hcl:"class,optional"`
		Extra  bool     `hcl:"extra,optional"`
		NIST   []string `hcl:"nist,optional"`
	} `hcl:"item,block"`
}

// DefaultCatalog returns the catalogs embedded in the binary.
func DefaultCatalog() (*Catalog, error) { return LoadCatalog(catalogFiles, "catalog") }

// LoadCatalog reads every *.hcl in dir of fsys, one reference per file.
func LoadCatalog(fsys fs.FS, dir string) (*Catalog, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	c := &Catalog{byKey: map[string]*Reference{}}
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		r, err := parseReference(name, src)
		if err != nil {
			return nil, err
		}
		if prev, dup := c.byKey[r.Key]; dup {
			return nil, fmt.Errorf("%s: reference %q is already defined in %s; one file per reference", name, r.Key, prev.File)
		}
		c.byKey[r.Key] = r
		c.References = append(c.References, r)
	}
	if len(c.References) == 0 {
		return nil, fmt.Errorf("no catalog files in %s", dir)
	}
	return c, nil
}

func parseReference(name string, src []byte) (*Reference, error) {
	f, diags := hclparse.NewParser().ParseHCL(src, name)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	var raw catalogFile
	if diags := gohcl.DecodeBody(f.Body, nil, &raw); diags.HasErrors() {
		return nil, diagError(diags)
	}
	if len(raw.Reference) != 1 {
		return nil, fmt.Errorf("%s: want exactly one reference block, found %d", name, len(raw.Reference))
	}
	ref := raw.Reference[0]
	if ref.Scope != ScopeComplete && ref.Scope != ScopeCitedOnly {
		return nil, fmt.Errorf("%s: reference %q: scope %q is not %q or %q", name, ref.Key, ref.Scope, ScopeComplete, ScopeCitedOnly)
	}
	var lines []int
	if sb, ok := f.Body.(*hclsyntax.Body); ok {
		for _, b := range sb.Blocks {
			if b.Type == "item" {
				lines = append(lines, b.DefRange().Start.Line)
			}
		}
	}
	r := &Reference{Key: ref.Key, Title: ref.Title, Scope: ref.Scope, File: name, Reasons: map[string]string{}, byID: map[string]*Item{}}
	for _, rs := range raw.Reasons {
		if strings.TrimSpace(rs.Text) == "" {
			return nil, fmt.Errorf("%s: reason %q has no text", name, rs.Name)
		}
		r.Reasons[rs.Name] = rs.Text
	}
	used := map[string]bool{}
	for i, it := range raw.Items {
		pos := name
		if i < len(lines) {
			pos = fmt.Sprintf("%s:%d", name, lines[i])
		}
		item := &Item{ID: it.ID, Title: it.Title, Status: it.Status, By: it.By, Reason: it.Reason, Note: it.Note,
			Level: it.Level, Want: it.Want, Source: it.Source, Class: it.Class, Extra: it.Extra, NIST: it.NIST, Pos: pos}
		if err := item.validate(r); err != nil {
			return nil, fmt.Errorf("%s: item %q: %w", pos, it.ID, err)
		}
		if prev, dup := r.byID[item.ID]; dup {
			return nil, fmt.Errorf("%s: item %q: duplicate id (first at %s)", pos, item.ID, prev.Pos)
		}
		used[item.Reason] = true
		r.byID[item.ID] = item
		r.Items = append(r.Items, item)
	}
	for n := range r.Reasons {
		if !used[n] {
			return nil, fmt.Errorf("%s: reason %q is never used; remove it", name, n)
		}
	}
	return r, nil
}

func (it *Item) validate(r *Reference) error {
	switch {
	case strings.TrimSpace(it.Title) == "":
		return errors.New("title is empty; say in a few words (our own) what the item asks for")
	case it.Status == "":
		return fmt.Errorf("no status; set status = %q, %q, %q or %q", Implemented, Excepted, NotApplicable, Open)
	}
	switch it.Status {
	case Implemented:
		if len(it.By) == 0 {
			return errors.New("implemented by which control? set by = [\"control-id\"]")
		}
	case Excepted:
		if len(it.By) == 0 || strings.TrimSpace(it.Note) == "" {
			return errors.New("an exception needs by = [compensating controls] and a note with the justification")
		}
	case NotApplicable:
		if _, ok := r.Reasons[it.Reason]; !ok {
			return fmt.Errorf("not-applicable needs reason = the name of a reason block in this file (got %q)", it.Reason)
		}
	case Open:
		if len(it.By) > 0 {
			return errors.New("an open item has no implementing control; remove by or change the status")
		}
	default:
		return fmt.Errorf("status %q is not %q, %q, %q or %q", it.Status, Implemented, Excepted, NotApplicable, Open)
	}
	if it.Reason != "" && it.Status != NotApplicable {
		return errors.New("reason is only for not-applicable items; use note")
	}
	return nil
}

// Reference returns the reference with the given key, or nil.
func (c *Catalog) Reference(key string) *Reference { return c.byKey[key] }

// Item returns the item with the given id, or nil.
func (r *Reference) Item(id string) *Item { return r.byID[id] }

// ReasonText returns the text of a not-applicable item's reason.
func (r *Reference) ReasonText(it *Item) string { return r.Reasons[it.Reason] }

// Citation is one reference a control gives, resolved against the catalog.
type Citation struct {
	Control   string
	Reference string // cis, kspp, stig
	Cited     string // as written in the profile
	ItemID    string // the catalog id it resolves to ("" for a section)
	Section   bool   // a CIS section id ("2.1") that covers the items under it
}

// Citations lists every CIS, KSPP and STIG reference of the profile's
// controls, resolved to catalog ids. "other" references are free text and are
// not resolved.
func Citations(p *Profile) []Citation {
	var out []Citation
	for _, c := range p.Controls {
		for _, id := range c.Refs.CIS {
			out = append(out, Citation{Control: c.ID, Reference: "cis", Cited: id, ItemID: id})
		}
		for _, k := range c.Refs.KSPP {
			out = append(out, Citation{Control: c.ID, Reference: "kspp", Cited: k, ItemID: KSPPItemID(k)})
		}
		for _, id := range c.Refs.STIG {
			out = append(out, Citation{Control: c.ID, Reference: "stig", Cited: id, ItemID: id})
		}
	}
	return out
}

// KSPPItemID turns a profile citation such as "sysctl kernel.kptr_restrict=2"
// or "kconfig CONFIG_BPF_SYSCALL is not set" into the catalog id "TYPE NAME".
func KSPPItemID(cited string) string {
	typ, rest, _ := strings.Cut(strings.TrimSpace(cited), " ")
	name := rest
	if i := strings.IndexAny(rest, "= "); i >= 0 {
		name = rest[:i]
	}
	return typ + " " + name
}

// Check cross-checks the catalog against a profile: every cited id exists,
// every item a control cites credits that control, and every control an item
// names exists. It returns one error per problem, each naming file:line.
func (c *Catalog) Check(p *Profile) []error {
	var errs []error
	for _, r := range c.References {
		for _, it := range r.Items {
			for _, id := range it.By {
				if p.Control(id) == nil {
					errs = append(errs, fmt.Errorf("%s: %s %q names control %q, which the profile does not have", it.Pos, r.Key, it.ID, id))
				}
			}
		}
	}
	for _, ct := range Citations(p) {
		r := c.Reference(ct.Reference)
		if r == nil {
			errs = append(errs, fmt.Errorf("control %q cites %s %q but there is no %s catalog", ct.Control, ct.Reference, ct.Cited, ct.Reference))
			continue
		}
		it := r.Item(ct.ItemID)
		if it == nil {
			if ct.Reference == "cis" && r.hasSection(ct.ItemID) {
				continue
			}
			errs = append(errs, fmt.Errorf("control %q (%s) cites %s %q, which is not in %s; add the item or fix the id",
				ct.Control, p.Control(ct.Control).Pos, ct.Reference, ct.Cited, r.File))
			continue
		}
		if it.Status != Implemented && it.Status != Excepted {
			errs = append(errs, fmt.Errorf("%s: %s %q is %s, but control %q cites it; mark it implemented (or exception) by %q",
				it.Pos, r.Key, it.ID, it.Status, ct.Control, ct.Control))
			continue
		}
		if !contains(it.By, ct.Control) {
			errs = append(errs, fmt.Errorf("%s: %s %q is cited by control %q but does not list it in by", it.Pos, r.Key, it.ID, ct.Control))
		}
	}
	return errs
}

// hasSection reports whether some item lies under a section id like "2.1".
func (r *Reference) hasSection(id string) bool {
	for _, it := range r.Items {
		if strings.HasPrefix(it.ID, id+".") {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// BuilderType is the source type name in templates: `source "supernode" "x"`.
const BuilderType = "supernode"

// TemplateOptions are the command-line inputs of a template, as Packer takes
// them: -var NAME=VALUE, -var-file FILE, and PKR_VAR_<name> in the
// environment (lowest precedence first: default, environment, files, -var).
type TemplateOptions struct {
	Vars     map[string]string
	VarFiles []string
}

// LoadTemplate reads a Packer HCL2 template and prepares a Builder from its
// first `source "supernode"` block; see LoadTemplateWith.
func LoadTemplate(path string) (*Builder, []string, error) {
	return LoadTemplateWith(path, TemplateOptions{})
}

// LoadTemplateWith reads a template exactly as Packer would for this
// builder: `variable` blocks (type, default, overrides), `locals`, and
// `path.root` / `path.cwd` are evaluated the way Packer evaluates them, the
// source block is decoded with the generated FlatConfig spec into a cty
// value (so unknown keys are errors with file and line), and that value goes
// through Builder.Prepare. `packer` and `build` blocks are accepted and
// ignored (provisioners and post-processors need Packer itself). Packer's
// functions are not available here; a template that uses one says so.
func LoadTemplateWith(path string, opts TemplateOptions) (*Builder, []string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, nil, fmt.Errorf("template %s not found; pass the path of a .pkr.hcl file (default image/appliance.pkr.hcl)", path)
	}
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCLFile(path)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("template %s: %s", path, diags.Error())
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "packer"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "build"},
	}})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("template %s: %s (this builder reads packer, variable, locals, source and build blocks)", path, diags.Error())
	}
	ctx, err := evalContext(parser, path, content.Blocks, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("template %s: %w", path, err)
	}
	for _, blk := range content.Blocks {
		if blk.Type != "source" || blk.Labels[0] != BuilderType {
			continue
		}
		b := &Builder{}
		val, diags := hcldec.Decode(blk.Body, b.ConfigSpec(), ctx)
		if diags.HasErrors() {
			return nil, nil, fmt.Errorf("template %s: %s", path, diags.Error())
		}
		_, warnings, err := b.Prepare(val, map[string]interface{}{
			"packer_build_name":   blk.Labels[1],
			"packer_builder_type": BuilderType,
		})
		if err != nil {
			return nil, warnings, fmt.Errorf("template %s, source %q: %w", filepath.Base(path), blk.Labels[1], err)
		}
		b.config.templatePath = path
		return b, warnings, nil
	}
	return nil, nil, fmt.Errorf("template %s has no source \"%s\" block", path, BuilderType)
}

// evalContext builds what expressions in the source block may refer to:
// var.<name>, local.<name>, path.root (the template's directory as given,
// as Packer sets it) and path.cwd.
func evalContext(parser *hclparse.Parser, path string, blocks hcl.Blocks, opts TemplateOptions) (*hcl.EvalContext, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"path": cty.ObjectVal(map[string]cty.Value{
			"root": cty.StringVal(filepath.Dir(path)),
			"cwd":  cty.StringVal(cwd),
		}),
	}}
	vars, err := variables(parser, blocks, opts)
	if err != nil {
		return nil, err
	}
	ctx.Variables["var"] = cty.ObjectVal(vars)
	locals, err := evalLocals(ctx, blocks)
	if err != nil {
		return nil, err
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	return ctx, nil
}

type variable struct {
	name  string
	typ   cty.Type
	value cty.Value
	set   bool
}

// variables evaluates the `variable` blocks and applies, in Packer's order,
// PKR_VAR_<name>, -var-file files and -var values.
func variables(parser *hclparse.Parser, blocks hcl.Blocks, opts TemplateOptions) (map[string]cty.Value, error) {
	decl := map[string]*variable{}
	for _, blk := range blocks {
		if blk.Type != "variable" {
			continue
		}
		name := blk.Labels[0]
		if decl[name] != nil {
			return nil, fmt.Errorf("%s: variable %q is declared twice", blk.DefRange, name)
		}
		attrs, diags := blk.Body.JustAttributes()
		if diags.HasErrors() {
			return nil, fmt.Errorf("variable %q: %s (the standalone CLI reads type, default, description and sensitive)", name, diags.Error())
		}
		v := &variable{name: name, typ: cty.DynamicPseudoType}
		if a, ok := attrs["type"]; ok {
			t, diags := typeexpr.TypeConstraint(a.Expr)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable %q: %s", name, diags.Error())
			}
			v.typ = t
		}
		if a, ok := attrs["default"]; ok {
			val, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable %q: %s", name, diags.Error())
			}
			if err := v.assign(val, a.Expr.Range().String()); err != nil {
				return nil, err
			}
		}
		for k := range attrs {
			switch k {
			case "type", "default", "description", "sensitive", "nullable":
			default:
				return nil, fmt.Errorf("%s: variable %q: attribute %q is not supported by the standalone CLI; use packer build", attrs[k].Range, name, k)
			}
		}
		decl[name] = v
	}
	// Environment, then files, then -var: later ones win, as in Packer.
	for _, kv := range os.Environ() {
		k, val, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "PKR_VAR_"); ok {
			if v := decl[name]; v != nil {
				if err := v.assignString(val, "environment variable "+k); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, file := range opts.VarFiles {
		f, diags := parser.ParseHCLFile(file)
		if diags.HasErrors() {
			return nil, fmt.Errorf("variable file %s: %s", file, diags.Error())
		}
		attrs, diags := f.Body.JustAttributes()
		if diags.HasErrors() {
			return nil, fmt.Errorf("variable file %s: %s", file, diags.Error())
		}
		for name, a := range attrs {
			v := decl[name]
			if v == nil {
				return nil, fmt.Errorf("%s: variable %q is not declared in the template; declare it with a variable block", a.NameRange, name)
			}
			val, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				return nil, fmt.Errorf("variable file %s: %s", file, diags.Error())
			}
			if err := v.assign(val, a.Expr.Range().String()); err != nil {
				return nil, err
			}
		}
	}
	names := make([]string, 0, len(opts.Vars))
	for name := range opts.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := decl[name]
		if v == nil {
			return nil, fmt.Errorf("-var %s: the template declares no variable %q", name, name)
		}
		if err := v.assignString(opts.Vars[name], "-var "+name); err != nil {
			return nil, err
		}
	}
	out := map[string]cty.Value{}
	for name, v := range decl {
		if !v.set {
			return nil, fmt.Errorf("variable %q has no default and no value; give one with -var %s=VALUE or PKR_VAR_%s", name, name, name)
		}
		out[name] = v.value
	}
	return out, nil
}

// assign converts val to the declared type.
func (v *variable) assign(val cty.Value, where string) error {
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		return fmt.Errorf("%s: variable %q: the value does not fit type %s", where, v.name, v.typ.FriendlyName())
	}
	v.value, v.set = conv, true
	return nil
}

// assignString takes a value from the command line or the environment:
// a string for string variables, an HCL expression (e.g. ["a","b"]) for
// any other type, as Packer does.
func (v *variable) assignString(s, where string) error {
	if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
		return v.assign(cty.StringVal(s), where)
	}
	expr, diags := hclsyntax.ParseExpression([]byte(s), where, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("%s: %q is not a value of type %s", where, s, v.typ.FriendlyName())
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return fmt.Errorf("%s: %q is not a value of type %s", where, s, v.typ.FriendlyName())
	}
	return v.assign(val, where)
}

// evalLocals evaluates `locals` blocks; a local may use variables, path and
// other locals in any order (evaluated until nothing more resolves).
func evalLocals(ctx *hcl.EvalContext, blocks hcl.Blocks) (map[string]cty.Value, error) {
	pending := map[string]*hcl.Attribute{}
	for _, blk := range blocks {
		if blk.Type != "locals" {
			continue
		}
		attrs, diags := blk.Body.JustAttributes()
		if diags.HasErrors() {
			return nil, fmt.Errorf("locals: %s", diags.Error())
		}
		for name, a := range attrs {
			if pending[name] != nil {
				return nil, fmt.Errorf("%s: local %q is defined twice", a.NameRange, name)
			}
			pending[name] = a
		}
	}
	locals := map[string]cty.Value{}
	for len(pending) > 0 {
		progress := false
		var lastErr hcl.Diagnostics
		for name, a := range pending {
			c := ctx.NewChild()
			c.Variables = map[string]cty.Value{"local": cty.ObjectVal(locals)}
			val, diags := a.Expr.Value(c)
			if diags.HasErrors() {
				lastErr = diags
				continue
			}
			locals[name] = val
			delete(pending, name)
			progress = true
		}
		if !progress {
			return nil, fmt.Errorf("locals: %s", lastErr.Error())
		}
	}
	return locals, nil
}

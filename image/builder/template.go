package builder

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// BuilderType is the source type name in templates: `source "supernode" "x"`.
const BuilderType = "supernode"

// LoadTemplate reads a Packer HCL2 template and prepares a Builder from its
// first `source "supernode"` block, exactly as Packer would: the block is
// decoded with the generated FlatConfig spec into a cty value (so unknown
// keys are errors with file and line), and that value goes through
// Builder.Prepare. The `packer` and `build` blocks are accepted and ignored.
func LoadTemplate(path string) (*Builder, []string, error) {
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
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "build"},
	}})
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("template %s: %s (this builder reads packer, source and build blocks)", path, diags.Error())
	}
	for _, blk := range content.Blocks {
		if blk.Type != "source" || blk.Labels[0] != BuilderType {
			continue
		}
		b := &Builder{}
		val, diags := hcldec.Decode(blk.Body, b.ConfigSpec(), nil)
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

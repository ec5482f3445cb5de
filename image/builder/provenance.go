package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ProvenanceFile is the SLSA v1 provenance of a build: an in-toto
// Statement (github.com/in-toto/attestation, spec v1) whose subjects are
// the artifacts and whose predicate says from what (source commit,
// template, Debian packages) and with what (builder, toolchain, host and
// tools-tree packages) they were made. It is covered by SHA256SUMS, so the
// operator's signature covers it too (SLSA's "signed provenance").
const ProvenanceFile = "provenance.intoto.json"

const (
	// BuildType names this builder's build recipe (SLSA v1 buildType).
	BuildType = "https://supernode-appliance.invalid/image-build/v1"
	// ProvenanceBuilderID names the builder (SLSA v1 builder.id).
	ProvenanceBuilderID = "https://supernode-appliance.invalid/builder/appliance"
)

// ProvenanceInput is what a provenance statement is made from.
type ProvenanceInput struct {
	Subjects       []FileInfo     // every artifact the statement is about
	SourceCommit   string         // git commit of source_dir
	SourceDirty    bool           // uncommitted changes when the build ran
	TemplatePath   string         // the .pkr.hcl file ("" under Packer, which passes only values)
	TemplateSHA256 string         // of the template file
	ConfigSHA256   string         // of the resolved configuration (JSON), always known
	External       map[string]any // the template's values that shape the image
	Mirror, Suite  string
	Packages       []DebPackage      // Debian packages of the final root
	DebSHA256      map[string]string // package -> sha256 of its .deb
	Binaries       []GoBinary        // the project's binaries installed
	Tools          map[string]string // tool -> version (builder, go, mmdebstrap, ukify, ...)
	Started        time.Time
	Finished       time.Time
	InvocationID   string
}

// RenderProvenance renders in as an in-toto Statement v1 with an SLSA
// Provenance v1 predicate, JSON with sorted keys.
func RenderProvenance(in ProvenanceInput) ([]byte, error) {
	var deps []*intoto.ResourceDescriptor
	if in.SourceCommit != "" {
		ann := map[string]any{"dirty": in.SourceDirty}
		a, _ := structpb.NewStruct(ann)
		deps = append(deps, &intoto.ResourceDescriptor{Name: "source", Uri: "git+" + modulePath + "@" + in.SourceCommit,
			Digest: map[string]string{"gitCommit": in.SourceCommit}, Annotations: a})
	}
	if in.TemplateSHA256 != "" {
		deps = append(deps, &intoto.ResourceDescriptor{Name: "template:" + in.TemplatePath,
			Digest: map[string]string{"sha256": in.TemplateSHA256}})
	}
	if in.Mirror != "" {
		deps = append(deps, &intoto.ResourceDescriptor{Name: "debian-archive:" + in.Suite, Uri: in.Mirror})
	}
	for _, b := range in.Binaries {
		deps = append(deps, &intoto.ResourceDescriptor{Name: b.Path, Uri: b.Purl(),
			Digest: map[string]string{"sha256": b.SHA256}})
	}
	for _, p := range in.Packages {
		rd := &intoto.ResourceDescriptor{Name: p.Name, Uri: DebPurl(p.Name, p.Version, p.Arch, in.Suite)}
		if sum := in.DebSHA256[p.Name]; sum != "" {
			rd.Digest = map[string]string{"sha256": sum}
		}
		deps = append(deps, rd)
	}
	ext := map[string]any{"configSha256": in.ConfigSHA256}
	if in.TemplatePath != "" {
		ext["template"] = in.TemplatePath
	}
	for k, v := range in.External {
		ext[k] = v
	}
	extPB, err := structpb.NewStruct(jsonRoundTrip(ext))
	if err != nil {
		return nil, fmt.Errorf("provenance parameters: %w", err)
	}
	var subjects []*intoto.ResourceDescriptor
	for _, s := range in.Subjects {
		subjects = append(subjects, &intoto.ResourceDescriptor{Name: s.Path, Digest: map[string]string{"sha256": s.SHA256}})
	}
	pred := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{BuildType: BuildType, ExternalParameters: extPB, ResolvedDependencies: deps},
		RunDetails: &slsa.RunDetails{
			Builder:  &slsa.Builder{Id: ProvenanceBuilderID, Version: in.Tools},
			Metadata: &slsa.BuildMetadata{InvocationId: in.InvocationID, StartedOn: timestamppb.New(in.Started), FinishedOn: timestamppb.New(in.Finished)},
		},
	}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	predJSON, err := protojson.Marshal(pred)
	if err != nil {
		return nil, err
	}
	predPB := &structpb.Struct{}
	if err := protojson.Unmarshal(predJSON, predPB); err != nil {
		return nil, err
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, Subject: subjects, PredicateType: slsaPredicateType, Predicate: predPB}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	b, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	// protojson's spacing is deliberately unstable; re-encode.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
}

const (
	slsaPredicateType = "https://slsa.dev/provenance/v1"
	modulePath        = "github.com/supernode-appliance/appliance"
)

// ReadProvenance parses and validates a statement with the in-toto types
// and returns its subjects (name -> sha256) and its SLSA predicate.
func ReadProvenance(data []byte) (map[string]string, *slsa.Provenance, error) {
	st := &intoto.Statement{}
	if err := protojson.Unmarshal(data, st); err != nil {
		return nil, nil, fmt.Errorf("the provenance is not an in-toto statement: %v", err)
	}
	if err := st.Validate(); err != nil {
		return nil, nil, fmt.Errorf("the provenance statement is invalid: %v", err)
	}
	if st.PredicateType != slsaPredicateType {
		return nil, nil, fmt.Errorf("the provenance predicate is %q, not SLSA v1", st.PredicateType)
	}
	pj, err := protojson.Marshal(st.Predicate)
	if err != nil {
		return nil, nil, err
	}
	pred := &slsa.Provenance{}
	if err := protojson.Unmarshal(pj, pred); err != nil {
		return nil, nil, fmt.Errorf("the SLSA predicate does not parse: %v", err)
	}
	if err := pred.Validate(); err != nil {
		return nil, nil, fmt.Errorf("the SLSA predicate is invalid: %v", err)
	}
	subjects := map[string]string{}
	for _, s := range st.Subject {
		subjects[s.Name] = s.Digest["sha256"]
	}
	return subjects, pred, nil
}

// jsonRoundTrip makes v plain JSON values (structpb takes no []string).
func jsonRoundTrip(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	out := map[string]any{}
	json.Unmarshal(b, &out)
	return out
}

// gitSource is source_dir's HEAD commit and whether the tree has changes.
func gitSource(ctx context.Context, dir string) (commit string, dirty bool) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err == nil && strings.TrimSpace(string(st)) != ""
}

// toolVersions records what made the image besides the template: the
// builder, its Go toolchain, the host's Debian tools and the tools tree's.
func (s *State) toolVersions() map[string]string {
	v := map[string]string{"appliance-builder": Version, "go": runtime.Version()}
	add := func(prefix, root string, names ...string) {
		f, err := os.Open(filepath.Join(root, "var/lib/dpkg/status"))
		if err != nil {
			return
		}
		defer f.Close()
		pkgs, _ := ParseDpkgStatus(f)
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		for _, p := range pkgs {
			if want[p.Name] {
				v[prefix+p.Name] = p.Version
			}
		}
	}
	add("host:", "/", "mmdebstrap", "qemu-utils", "util-linux", "apt", "dpkg")
	if s.ToolsRoot != "" {
		add("tools:", s.ToolsRoot, "systemd-ukify", "systemd-repart", "systemd-boot-efi", "erofs-utils",
			"cryptsetup-bin", "fdisk", "mtools", "dosfstools", "sbsigntool", "systemd")
	}
	for _, b := range s.inventoryBinaries() {
		v["go-binary:"+b.Name] = b.GoVersion
	}
	if s.KernelVersion != "" {
		v["kernel"] = s.KernelVersion
	}
	return v
}

func (s *State) inventoryBinaries() []GoBinary {
	if s.Inventory == nil {
		return nil
	}
	return s.Inventory.GoBinaries
}

// Provenance renders the provenance of this build for subjects.
func (s *State) Provenance(ctx context.Context, subjects []FileInfo) ([]byte, error) {
	c := s.Config
	in := ProvenanceInput{Subjects: subjects, Mirror: s.Mirror, Suite: c.Suite, Tools: s.toolVersions(),
		Started: s.Started, Finished: time.Now(), InvocationID: fmt.Sprintf("%s-%d", c.ImageName, s.Started.UnixNano()),
		External: s.inputs()}
	delete(in.External, "binaries_sha256") // resolvedDependencies has them
	in.SourceCommit, in.SourceDirty = gitSource(ctx, c.SourceDir)
	if in.SourceCommit == "" {
		for _, b := range s.inventoryBinaries() {
			in.SourceCommit = b.Settings["vcs.revision"]
		}
	}
	if c.templatePath != "" {
		in.TemplatePath = c.templatePath
		in.TemplateSHA256, _ = sha256File(c.templatePath)
	}
	// The resolved values, without Packer's (user variables may be secret).
	resolved := *c
	resolved.PackerConfig = common.PackerConfig{}
	cfg, _ := json.Marshal(resolved)
	sum := sha256.Sum256(cfg)
	in.ConfigSHA256 = hex.EncodeToString(sum[:])
	if s.Inventory != nil {
		in.Packages, in.DebSHA256, in.Binaries = s.Inventory.Packages, s.Inventory.DebSHA256, s.Inventory.GoBinaries
	}
	sort.Slice(in.Subjects, func(i, j int) bool { return in.Subjects[i].Path < in.Subjects[j].Path })
	return RenderProvenance(in)
}

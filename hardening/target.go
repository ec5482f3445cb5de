package hardening

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Target is what an audit looks at: a root filesystem plus the facts that
// are not in it (the kernel command line, the image's integrity).
type Target struct {
	Name string // image path, root dir or host name, for reports
	Root string // the root filesystem to read ("/" when live)
	Live bool   // read the running kernel (/proc, /sys) instead of config files

	Cmdline      string // kernel command line
	CmdlineWhere string // where it was read

	Debug bool   // debug image (from the hardening stamp)
	Abort string // non-empty: checks are not run (e.g. integrity failure)

	Image *ImageFacts // offline image facts; nil for a plain root dir or live
	Facts map[string]string

	Proc, Sys string // /proc and /sys (tests may point elsewhere)

	modules        map[string]string // shipped kernel modules, lazily loaded
	flavour        *string           // KernelFlavourFile, lazily read
	profileVersion string            // the auditing profile's version
}

// ImageFacts are what the offline audit learned while opening the image.
type ImageFacts struct {
	Path           string
	UKI            string   // path of the UKI inside the ESP
	UKIFile        string   // the UKI copied out of the ESP (valid until Close)
	UKISections    []string // PE section names
	RootHash       string   // roothash= from the UKI command line
	VerityVerified bool
	VerityOutput   string // what veritysetup said
	SignatureSize  uint32 // Authenticode certificate table size, 0 = unsigned
	// A/B slots: the partitions verified ("#2 supernode_1.2.3") and every
	// slot of each type (the inactive one may be empty).
	RootSlot, VeritySlot, RootSlots, VeritySlots string

	Expected          ImageOptions // what the operator says the image must be
	RootHashTokens    int          // roothash= tokens on the UKI command line (exactly one is valid)
	SignatureVerified bool         // Authenticode signature verified with Expected.Cert
	SignatureOutput   string
}

// Scope is "image" for offline targets, "live" for a running system.
func (t *Target) Scope() string {
	if t.Live {
		return ScopeLive
	}
	return ScopeImage
}

// NewRootTarget audits a root directory offline, taking the command line
// from <root>/etc/kernel/cmdline (what Apply wrote). Images use OpenImage.
func NewRootTarget(root string) (*Target, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("audit: %q is not a directory", root)
	}
	t := &Target{Name: root, Root: root, Proc: "/proc", Sys: "/sys", Facts: map[string]string{}}
	if b, err := os.ReadFile(inRoot(root, cmdlineFile)); err == nil {
		t.Cmdline, t.CmdlineWhere = strings.TrimSpace(string(b)), cmdlineFile
	}
	t.readStamp()
	return t, nil
}

// NewLiveTarget audits the running system.
func NewLiveTarget() (*Target, error) {
	host, _ := os.Hostname()
	t := &Target{Name: host, Root: "/", Live: true, Proc: "/proc", Sys: "/sys", Facts: map[string]string{}}
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return nil, fmt.Errorf("audit --live: %w", err)
	}
	t.Cmdline, t.CmdlineWhere = strings.TrimSpace(string(b)), "/proc/cmdline"
	if u, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		t.Facts["kernel"] = strings.TrimSpace(string(u))
	}
	t.readStamp()
	return t, nil
}

func (t *Target) readStamp() {
	if s, err := ReadStamp(t.Root); err == nil {
		t.Debug = s.Debug
		t.Facts["image_profile_version"] = s.Version
		t.Facts["image_debug"] = fmt.Sprint(s.Debug)
	}
}

// KernelFlavour is the kernel flavour the root says it was built with
// (KernelFlavourFile), or "" when it does not say (a root that is not an
// appliance image's). Only a known flavour counts.
func (t *Target) KernelFlavour() string {
	if t.flavour == nil {
		f := ""
		if b, err := os.ReadFile(inRoot(t.Root, KernelFlavourFile)); err == nil && slices.Contains(KernelFlavours, strings.TrimSpace(string(b))) {
			f = strings.TrimSpace(string(b))
		}
		t.flavour = &f
	}
	return *t.flavour
}

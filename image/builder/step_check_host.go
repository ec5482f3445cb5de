package builder

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"golang.org/x/sys/unix"

	"github.com/supernode-appliance/appliance/image/tools"
)

// HostTools are the tools the host itself must provide; everything else
// comes from the tools tree. Each maps to the Debian package that has it.
var HostTools = map[string]string{
	"mmdebstrap": "mmdebstrap",
	"unshare":    "util-linux",
	"chroot":     "coreutils",
	"qemu-img":   "qemu-utils",
}

// MinFreeBytes is the free space the build needs next to the output
// directory (root tree, tools tree, images in flight).
var MinFreeBytes int64 = 3 << 30

// StepCheckHost stops the build before any work when it cannot succeed:
// not root, a host tool missing, too little disk space, no mirror. Each
// failure is one sentence naming the problem and the fix.
type StepCheckHost struct {
	// Overridable for tests.
	euid     func() int
	lookPath func(string) (string, error)
	etcApt   string
}

func (*StepCheckHost) Describe() string { return "check host" }

func (s *StepCheckHost) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	st := GetState(state)
	if err := s.check(ctx, st); err != nil {
		return halt(state, err)
	}
	st.say("mirror %s, SOURCE_DATE_EPOCH=%d", st.Mirror, st.Epoch)
	return multistep.ActionContinue
}

func (s *StepCheckHost) check(ctx context.Context, st *State) error {
	c := st.Config
	euid, look, etcApt := os.Geteuid, exec.LookPath, "/etc/apt"
	if s.euid != nil {
		euid = s.euid
	}
	if s.lookPath != nil {
		look = s.lookPath
	}
	if s.etcApt != "" {
		etcApt = s.etcApt
	}
	if euid() != 0 {
		return fmt.Errorf("the image build must run as root (it uses mmdebstrap, chroot and mount namespaces); run it with sudo")
	}
	var missing []string
	for tool, pkg := range HostTools {
		if _, err := look(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", tool, pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing host tools: %s; install them (`make deps` or apt-get install) and retry", strings.Join(sortedCopy(missing), ", "))
	}
	for _, p := range []string{c.OutputDir, c.CacheDir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %v; choose a writable directory", p, err)
		}
	}
	for _, p := range []string{c.OutputDir, c.CacheDir} {
		var fs unix.Statfs_t
		if err := unix.Statfs(p, &fs); err == nil {
			if free := int64(fs.Bavail) * int64(fs.Bsize); free < MinFreeBytes {
				return fmt.Errorf("only %s free under %s, the build needs %s; free some space or set output_dir/cache_dir elsewhere", humanSize(free), p, humanSize(MinFreeBytes))
			}
		}
	}
	st.Mirror = c.Mirror
	if st.Mirror == "" {
		m, err := tools.HostMirror(etcApt)
		if err != nil {
			return err
		}
		st.Mirror = m
	}
	if err := probeMirror(ctx, st.Mirror, c.Suite); err != nil {
		return err
	}
	st.Epoch = c.SourceDateEpoch
	if st.Epoch == 0 {
		st.Epoch = gitEpoch(ctx, c.SourceDir)
	}
	return nil
}

// probeMirror fetches the suite's Release file: an unreachable mirror fails
// here in seconds instead of deep inside mmdebstrap.
func probeMirror(ctx context.Context, mirror, suite string) error {
	if strings.HasPrefix(mirror, "file://") {
		if _, err := os.Stat(filepath.Join(strings.TrimPrefix(mirror, "file://"), "dists", suite, "Release")); err != nil {
			return fmt.Errorf("mirror %s has no dists/%s/Release; set mirror to a Debian archive", mirror, suite)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	url := strings.TrimRight(mirror, "/") + "/dists/" + suite + "/Release"
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("Debian mirror %s is unreachable (%v); check the network or set the template option mirror", mirror, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("Debian mirror %s does not serve %s (HTTP %d for dists/%s/Release); set mirror to one that does", mirror, suite, resp.StatusCode, suite)
	}
	return nil
}

// gitEpoch is the commit time of HEAD in dir, so two builds of one commit
// get the same timestamps; 1 if dir is not a git checkout.
func gitEpoch(ctx context.Context, dir string) int64 {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%ct").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 1
}

func (*StepCheckHost) Cleanup(multistep.StateBag) {}

package update

import (
	"strconv"
	"strings"
)

// CompareVersions orders two appliance versions (internal/version's form,
// semantic versioning with build metadata: X.Y.Z, X.Y.Z-dev+N.gHASH):
// numerically by X.Y.Z, a release after its own pre-releases, then the
// pre-release and the metadata identifier by identifier (numbers
// numerically, so +12.g... is newer than +9.g...). It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	ac, ap, am := split(a)
	bc, bp, bm := split(b)
	if c := compareIDs(ac, bc, true); c != 0 {
		return c
	}
	switch {
	case ap == "" && bp != "":
		return 1
	case ap != "" && bp == "":
		return -1
	}
	if c := compareIDs(ap, bp, false); c != 0 {
		return c
	}
	return compareIDs(am, bm, false)
}

func split(v string) (core, pre, meta string) {
	v, meta, _ = strings.Cut(v, "+")
	core, pre, _ = strings.Cut(v, "-")
	return
}

func compareIDs(a, b string, numeric bool) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		if i >= len(as) {
			return -1
		}
		if i >= len(bs) {
			return 1
		}
		x, y := as[i], bs[i]
		xn, xerr := strconv.ParseUint(x, 10, 64)
		yn, yerr := strconv.ParseUint(y, 10, 64)
		switch {
		case xerr == nil && yerr == nil:
			if xn != yn {
				if xn < yn {
					return -1
				}
				return 1
			}
		case numeric || (xerr == nil) != (yerr == nil):
			// Numbers sort before words (semver 11.4.3).
			if xerr == nil {
				return -1
			}
			if yerr == nil {
				return 1
			}
			fallthrough
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return 0
}

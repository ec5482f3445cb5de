package builder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdxlib"
)

// ValidateSBOM checks an SPDX 2.3 JSON document: the SPDX project's own
// reader (github.com/spdx/tools-golang) must parse it as 2.3 and its
// ValidateDocument must accept the relationships; then the rules of the
// spec and its JSON schema that reader does not enforce (it accepts
// "OPERATING-SYSTEM", for one) are checked here. It returns every problem
// found, one sentence each.
func ValidateSBOM(data []byte) error {
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("the SBOM is not SPDX JSON the SPDX tools can read: %w", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" {
		return fmt.Errorf("the SBOM is %q, not SPDX-2.3", doc.SPDXVersion)
	}
	var errs []error
	if err := spdxlib.ValidateDocument(doc); err != nil {
		errs = append(errs, fmt.Errorf("SPDX tools: %w", err))
	}
	var raw spdxDoc
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if raw.DataLicense != "CC0-1.0" {
		bad("dataLicense is %q; SPDX 2.3 requires CC0-1.0", raw.DataLicense)
	}
	if raw.SPDXID != "SPDXRef-DOCUMENT" {
		bad("the document's SPDXID is %q, not SPDXRef-DOCUMENT", raw.SPDXID)
	}
	if !strings.Contains(raw.DocumentNamespace, "://") || strings.Contains(raw.DocumentNamespace, "#") {
		bad("documentNamespace %q is not an absolute URI without a fragment", raw.DocumentNamespace)
	}
	if len(raw.CreationInfo.Creators) == 0 || raw.CreationInfo.Created == "" {
		bad("creationInfo needs created and at least one creator")
	}
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	addID := func(id string) {
		if !spdxIDRe.MatchString(id) {
			bad("SPDXID %q is not SPDXRef- followed by letters, digits, '.' or '-'", id)
		}
		if ids[id] {
			bad("SPDXID %q is used twice", id)
		}
		ids[id] = true
	}
	declared := map[string]bool{}
	for _, l := range raw.OtherLicenses {
		if !licenseRefRe.MatchString(l.LicenseID) || l.ExtractedText == "" {
			bad("extracted license %q needs a LicenseRef- id and a text", l.LicenseID)
		}
		declared[l.LicenseID] = true
	}
	checkLicense := func(where, expr string) {
		if err := checkLicenseExpression(expr, declared); err != nil {
			bad("%s: %v", where, err)
		}
	}
	for _, p := range raw.Packages {
		addID(p.SPDXID)
		if p.Name == "" || p.DownloadLocation == "" {
			bad("package %s needs a name and a downloadLocation", p.SPDXID)
		}
		if p.PrimaryPurpose != "" && !purposes[p.PrimaryPurpose] {
			bad("package %s: primaryPackagePurpose %q is not one of SPDX 2.3's (APPLICATION, OPERATING_SYSTEM, LIBRARY, SOURCE, ...)", p.SPDXID, p.PrimaryPurpose)
		}
		checkLicense("package "+p.SPDXID+" licenseConcluded", p.LicenseConcluded)
		checkLicense("package "+p.SPDXID+" licenseDeclared", p.LicenseDeclared)
		if p.Supplier != "" && p.Supplier != "NOASSERTION" && !strings.HasPrefix(p.Supplier, "Organization: ") && !strings.HasPrefix(p.Supplier, "Person: ") {
			bad("package %s: supplier %q is not 'Organization: ' or 'Person: '", p.SPDXID, p.Supplier)
		}
		for _, c := range p.Checksums {
			if err := checkChecksum(c); err != nil {
				bad("package %s: %v", p.SPDXID, err)
			}
		}
		for _, r := range p.ExternalRefs {
			if r.Type == "purl" && (r.Category != "PACKAGE-MANAGER" || !purlRe.MatchString(r.Locator)) {
				bad("package %s: %q is not a purl in category PACKAGE-MANAGER", p.SPDXID, r.Locator)
			}
		}
	}
	for _, f := range raw.Files {
		addID(f.SPDXID)
		hasSHA1 := false
		for _, c := range f.Checksums {
			if err := checkChecksum(c); err != nil {
				bad("file %s: %v", f.FileName, err)
			}
			hasSHA1 = hasSHA1 || c.Algorithm == "SHA1"
		}
		if !hasSHA1 {
			bad("file %s has no SHA1 checksum, which SPDX 2.3 requires", f.FileName)
		}
		checkLicense("file "+f.FileName, f.LicenseConcluded)
	}
	describes := false
	for _, r := range raw.Relationships {
		if !relationshipTypes[r.Type] {
			bad("relationship type %q is not an SPDX 2.3 one", r.Type)
		}
		for _, id := range []string{r.Element, r.Related} {
			if !ids[id] && id != "NONE" && id != "NOASSERTION" {
				bad("relationship %s %s %s names an element the document does not have", r.Element, r.Type, r.Related)
			}
		}
		describes = describes || (r.Element == "SPDXRef-DOCUMENT" && r.Type == "DESCRIBES")
	}
	if !describes {
		bad("the document DESCRIBES nothing")
	}
	return errors.Join(errs...)
}

var (
	spdxIDRe     = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	licenseRefRe = regexp.MustCompile(`^LicenseRef-[A-Za-z0-9.-]+$`)
	licenseIDRe  = regexp.MustCompile(`^[A-Za-z0-9.-]+\+?$`)
	purlRe       = regexp.MustCompile(`^pkg:[a-z][a-z0-9.+-]*/[^@?#]+(@[^?#]+)?(\?[^#]*)?(#.*)?$`)
	hexRe        = regexp.MustCompile(`^[0-9a-f]+$`)
	// SPDX 2.3 JSON schema, primaryPackagePurpose.
	purposes = map[string]bool{"APPLICATION": true, "FRAMEWORK": true, "LIBRARY": true, "CONTAINER": true,
		"OPERATING_SYSTEM": true, "DEVICE": true, "FIRMWARE": true, "SOURCE": true, "ARCHIVE": true, "FILE": true,
		"INSTALL": true, "OTHER": true}
	checksumHexLen = map[string]int{"SHA1": 40, "SHA224": 56, "SHA256": 64, "SHA384": 96, "SHA512": 128, "MD5": 32,
		"SHA3-256": 64, "SHA3-384": 96, "SHA3-512": 128, "BLAKE2b-256": 64, "BLAKE2b-384": 96, "BLAKE2b-512": 128}
	relationshipTypes = map[string]bool{}
)

func init() {
	// SPDX 2.3 section 11.1, every relationship type.
	for _, t := range strings.Fields(`DESCRIBES DESCRIBED_BY CONTAINS CONTAINED_BY DEPENDS_ON DEPENDENCY_OF
		DEPENDENCY_MANIFEST_OF BUILD_DEPENDENCY_OF DEV_DEPENDENCY_OF OPTIONAL_DEPENDENCY_OF PROVIDED_DEPENDENCY_OF
		TEST_DEPENDENCY_OF RUNTIME_DEPENDENCY_OF EXAMPLE_OF GENERATES GENERATED_FROM ANCESTOR_OF DESCENDANT_OF
		VARIANT_OF DISTRIBUTION_ARTIFACT PATCH_FOR PATCH_APPLIED COPY_OF FILE_ADDED FILE_DELETED FILE_MODIFIED
		EXPANDED_FROM_ARCHIVE DYNAMIC_LINK STATIC_LINK DATA_FILE_OF TEST_CASE_OF BUILD_TOOL_OF DEV_TOOL_OF TEST_OF
		TEST_TOOL_OF DOCUMENTATION_OF OPTIONAL_COMPONENT_OF METAFILE_OF PACKAGE_OF AMENDS PREREQUISITE_FOR
		HAS_PREREQUISITE REQUIREMENT_DESCRIPTION_FOR SPECIFICATION_FOR OTHER`) {
		relationshipTypes[t] = true
	}
}

func checkChecksum(c spdxChecksum) error {
	n, ok := checksumHexLen[c.Algorithm]
	if !ok {
		return fmt.Errorf("checksum algorithm %q is not an SPDX 2.3 one", c.Algorithm)
	}
	if len(c.Value) != n || !hexRe.MatchString(c.Value) {
		return fmt.Errorf("%s checksum %q is not %d lower-case hex digits", c.Algorithm, c.Value, n)
	}
	return nil
}

// checkLicenseExpression checks SPDX license expression syntax (SPDX 2.3
// annex D): ids or LicenseRefs, AND/OR, WITH, parentheses; every
// LicenseRef must be declared in hasExtractedLicensingInfos.
func checkLicenseExpression(expr string, declared map[string]bool) error {
	if expr == "NOASSERTION" || expr == "NONE" {
		return nil
	}
	toks := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(expr))
	depth, wantOperand := 0, true
	for i, t := range toks {
		switch {
		case t == "(":
			if !wantOperand {
				return fmt.Errorf("license expression %q: '(' after an operand", expr)
			}
			depth++
		case t == ")":
			if wantOperand {
				return fmt.Errorf("license expression %q: ')' where a license was expected", expr)
			}
			if depth--; depth < 0 {
				return fmt.Errorf("license expression %q: unbalanced ')'", expr)
			}
		case t == "AND" || t == "OR":
			if wantOperand {
				return fmt.Errorf("license expression %q: %s where a license was expected", expr, t)
			}
			wantOperand = true
		case t == "WITH":
			if wantOperand || i+1 >= len(toks) || !licenseIDRe.MatchString(toks[i+1]) {
				return fmt.Errorf("license expression %q: WITH needs a license before and an exception after", expr)
			}
			wantOperand = true
		default:
			if !wantOperand {
				return fmt.Errorf("license expression %q: two licenses without AND/OR between them", expr)
			}
			if strings.HasPrefix(t, "LicenseRef-") {
				if !licenseRefRe.MatchString(t) {
					return fmt.Errorf("license expression %q: %q is not a valid LicenseRef", expr, t)
				}
				if !declared[t] {
					return fmt.Errorf("license expression %q: %s is not declared in hasExtractedLicensingInfos", expr, t)
				}
			} else if !licenseIDRe.MatchString(t) {
				return fmt.Errorf("license expression %q: %q is not a license id", expr, t)
			}
			wantOperand = false
		}
	}
	if wantOperand || depth != 0 {
		return fmt.Errorf("license expression %q is incomplete", expr)
	}
	return nil
}

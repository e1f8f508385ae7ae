package sbom

import (
	"regexp"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// spdxIDs are the SPDX licence identifiers that data and model manifests
// commonly name (Hugging Face's licence tags are these in lower case). A
// manifest's licence that is one of them, in any case, or a Creative
// Commons or Open Data Commons URL of one, is recorded by its SPDX
// identifier; any other text is recorded as a licence name.
var spdxIDs = []string{
	"0BSD", "AFL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-2.0", "Artistic-2.0",
	"BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause", "BSD-3-Clause-Clear", "BSD-4-Clause", "BSL-1.0",
	"C-UDA-1.0", "CC-BY-2.0", "CC-BY-2.5", "CC-BY-3.0", "CC-BY-4.0", "CC-BY-NC-2.0", "CC-BY-NC-3.0",
	"CC-BY-NC-4.0", "CC-BY-NC-ND-3.0", "CC-BY-NC-ND-4.0", "CC-BY-NC-SA-2.0", "CC-BY-NC-SA-3.0",
	"CC-BY-NC-SA-4.0", "CC-BY-ND-3.0", "CC-BY-ND-4.0", "CC-BY-SA-2.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0",
	"CC0-1.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "ECL-2.0", "EPL-2.0",
	"EUPL-1.2", "GFDL-1.3-only", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
	"ISC", "LGPL-2.1-only", "LGPL-3.0-only", "LPPL-1.3c", "MIT", "MPL-2.0", "NCSA", "ODC-By-1.0",
	"ODbL-1.0", "OFL-1.1", "OSL-3.0", "PDDL-1.0", "PostgreSQL", "Python-2.0", "Unlicense", "WTFPL", "Zlib",
}

// spdxAliases are other spellings of those identifiers.
var spdxAliases = map[string]string{
	"odc-by": "ODC-By-1.0", "odbl": "ODbL-1.0", "pddl": "PDDL-1.0", "cc0": "CC0-1.0",
	"apache 2.0": "Apache-2.0", "apache license 2.0": "Apache-2.0",
}

var spdxByLower = func() map[string]string {
	m := make(map[string]string, len(spdxIDs)+len(spdxAliases))
	for _, id := range spdxIDs {
		m[strings.ToLower(id)] = id
	}
	for k, v := range spdxAliases {
		m[k] = v
	}
	return m
}()

var (
	reCCURL  = regexp.MustCompile(`^https?://(?:www\.)?creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)/?(?:legalcode)?$`)
	reCC0URL = regexp.MustCompile(`^https?://(?:www\.)?creativecommons\.org/publicdomain/zero/1\.0/?(?:legalcode)?$`)
	reODCURL = regexp.MustCompile(`^https?://(?:www\.)?opendatacommons\.org/licenses/(by|odbl|pddl)/1[-.]0/?$`)
)

// spdxID returns the SPDX identifier a licence text stands for, or "".
func spdxID(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	if id, ok := spdxByLower[l]; ok {
		return id
	}
	switch {
	case reCC0URL.MatchString(l):
		return "CC0-1.0"
	case reCCURL.MatchString(l):
		m := reCCURL.FindStringSubmatch(l)
		return spdxByLower["cc-"+m[1]+"-"+m[2]]
	case reODCURL.MatchString(l):
		m := reODCURL.FindStringSubmatch(l)
		return map[string]string{"by": "ODC-By-1.0", "odbl": "ODbL-1.0", "pddl": "PDDL-1.0"}[m[1]]
	}
	return ""
}

// licenseChoice records a licence by SPDX identifier when it is one, and
// by name otherwise; a URL is kept as the licence's URL.
func licenseChoice(s string) cdx.LicenseChoice {
	l := &cdx.License{}
	if id := spdxID(s); id != "" {
		l.ID = id
	} else {
		l.Name = s
	}
	if u := webURL(s); u != "" {
		l.URL = u
	}
	return cdx.LicenseChoice{License: l}
}

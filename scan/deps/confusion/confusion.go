// Package confusion finds dependency confusion: packages whose names the
// organisation declares its own (private name patterns such as "acme-*")
// that the project's lockfiles show fetched from a public registry, or that
// the installer may take from a public index where anyone can publish the
// same name with a higher version.
//
// It judges only what the files record: the Source and Indexes of each
// lockfile.Package and, for npm, the registry settings of the project's
// .npmrc, .yarnrc and .yarnrc.yml. The installer's user or machine
// configuration (pip.conf, ~/.npmrc, GOPRIVATE/GOPROXY, Cargo's config) is
// not in the repository and is not guessed.
package confusion

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/deps/lockfile"
	"github.com/rampartsec/rampart/scan/deps/typosquat"
)

var family = finding.Family{
	Name:  "deps.confusion",
	Layer: finding.LayerSupplyChain,
	References: finding.References{
		OWASP: []string{"LLM03:2025"},
		ATLAS: []string{"AML.T0010"},
		CWE:   []string{"CWE-427"},
	},
}

// rule makes a rule of the family with its own remediation.
func rule(id, title string, sev finding.Severity, remediation string) *finding.Rule {
	r := family.Rule(id, title, sev)
	r.Remediation = remediation
	return r
}

var (
	// RulePublicSource is a private-named package that a lockfile records
	// as fetched from a public registry.
	RulePublicSource = rule("public-source", "Private package resolved from a public registry", finding.Critical,
		"Check that the installed package is your own (compare its contents with your private registry), then bind the name to your registry: a scope with @scope:registry in .npmrc, source/index in pyproject.toml or Pipfile, registry = \"…\" in Cargo.toml, and regenerate the lockfile; reserve the name on the public registry.")
	// RuleExtraIndex is a private-named Python package that the installer
	// looks up in several indexes, one of them public, without a binding
	// to the private one.
	RuleExtraIndex = rule("extra-index", "Private package looked up in a public index next to the private one", finding.High,
		"Install private packages from the private index only: replace --extra-index-url with --index-url of a private index that proxies PyPI, or bind the package (index = in Pipfile, source = in Poetry, [tool.uv.sources] in uv), and pin it with --hash; reserve the name on PyPI.")
	// RuleUnscoped is a private-named unscoped npm package that nothing in
	// the project binds to a private registry.
	RuleUnscoped = rule("unscoped", "Private npm package with an unscoped name and no private registry", finding.High,
		"Move the package under your organisation's scope (@acme/…) bound with @acme:registry= in the project's .npmrc, or set registry= to your private registry in the project's .npmrc; reserve the name on npmjs.")
)

// Rules lists every rule Check can report.
func Rules() []finding.Rule {
	return []finding.Rule{*RulePublicSource, *RuleExtraIndex, *RuleUnscoped}
}

// detector names this package in findings.
const detector = "deps.confusion"

// Check reports the packages of pkgs whose names match one of the private
// patterns (path.Match syntax as for typosquat.Private, e.g. "acme-*",
// "@acme/*") and that are, or may be, fetched from a public registry. For
// npm it reads the registry settings next to each lockfile. A package
// declared several times in one file with the same source is reported once.
// Go modules and conda packages are never reported: see the package
// documentation and docs/scan/deps-confusion.md.
func Check(pkgs []lockfile.Package, private []string) []finding.Finding {
	if len(private) == 0 {
		return nil
	}
	var out []finding.Finding
	seen := map[string]bool{}
	configs := map[string]*npmConfig{}
	for _, p := range pkgs {
		if p.Ecosystem != lockfile.NPM && p.Ecosystem != lockfile.PyPI && p.Ecosystem != lockfile.Crates {
			continue
		}
		key := strings.Join([]string{p.Ecosystem, p.Name, p.File, p.Source, strings.Join(p.Indexes, " ")}, "\x00")
		if seen[key] || !typosquat.Private(p.Ecosystem, p.Name, private) {
			continue
		}
		seen[key] = true
		var f *finding.Finding
		if p.Ecosystem == lockfile.NPM {
			dir := filepath.Dir(p.File)
			cfg, ok := configs[dir]
			if !ok {
				cfg = readNPMConfig(dir)
				configs[dir] = cfg
			}
			f = checkNPM(p, cfg)
		} else {
			f = checkIndexed(p)
		}
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// newFinding makes a finding at the package's declaration.
func newFinding(r *finding.Rule, p lockfile.Package, confidence float64, msg string) *finding.Finding {
	excerpt := p.Name
	if p.Version != "" {
		excerpt += "@" + p.Version
	}
	f := finding.New(r, finding.Location{Path: p.File, Line: p.Line}, confidence, excerpt)
	f.Message = msg
	f.Detector = detector
	return &f
}

// declared names the package and where it is declared, for messages.
func declared(p lockfile.Package) string {
	s := fmt.Sprintf("%s package %s", p.Ecosystem, p.Name)
	if p.Line > 0 {
		return fmt.Sprintf("%s (%s:%d)", s, p.File, p.Line)
	}
	return fmt.Sprintf("%s (%s)", s, p.File)
}

// checkIndexed judges a PyPI or crates.io package by its Source or Indexes.
func checkIndexed(p lockfile.Package) *finding.Finding {
	if p.Source != "" {
		if !Public(p.Source) {
			return nil
		}
		return newFinding(RulePublicSource, p, 0.9, fmt.Sprintf(
			"%s matches a private name pattern but is resolved from the public registry %s, where anyone can publish that name",
			declared(p), p.Source))
	}
	if len(p.Indexes) == 0 {
		return nil
	}
	var public, private []string
	for _, ix := range p.Indexes {
		if Public(ix) {
			public = append(public, ix)
		} else {
			private = append(private, ix)
		}
	}
	switch {
	case len(public) == 0:
		return nil
	case len(private) == 0:
		return newFinding(RulePublicSource, p, 0.9, fmt.Sprintf(
			"%s matches a private name pattern but the only indexes configured are public (%s), where anyone can publish that name",
			declared(p), strings.Join(public, ", ")))
	}
	kind := lockfile.KindOf(p.File)
	pip := kind == lockfile.KindRequirements || kind == lockfile.KindConstraints || kind == lockfile.KindCondaEnv
	if pip && len(p.Hashes) > 0 {
		return nil // a new upload, from whichever index, fails the hash check
	}
	how := "the installer looks it up in every index"
	switch {
	case pip:
		how = "pip merges the versions of every index and installs the highest, so a public upload with a higher version wins; the requirement has no --hash to stop it"
	case kind == lockfile.KindPyproject:
		how = "the dependency names no source, and Poetry merges its primary sources and PyPI (supplemental ones serve only what those lack), as uv does with index-strategy = \"unsafe-best-match\": the highest version wins, whichever index offers it"
	case kind == lockfile.KindPipfileLock || kind == lockfile.KindPipfile:
		how = "the package names no index, so Pipenv takes it from the first source, or searches every source (before 2022.3.23, or with install_search_all_sources), and a re-lock can pick a public upload"
	}
	return newFinding(RuleExtraIndex, p, 0.8, fmt.Sprintf(
		"%s matches a private name pattern and is looked up in the private index %s and the public index %s: %s",
		declared(p), strings.Join(private, ", "), strings.Join(public, ", "), how))
}

// checkNPM judges an npm package by the registry its lockfile records and
// the project's registry settings.
func checkNPM(p lockfile.Package, cfg *npmConfig) *finding.Finding {
	if p.Source != "" {
		if !Public(p.Source) {
			return nil
		}
		return newFinding(RulePublicSource, p, 0.9, fmt.Sprintf(
			"%s matches a private name pattern but the lockfile resolves it from the public registry %s, where anyone can publish that name",
			declared(p), p.Source))
	}
	registry, where := cfg.registryFor(p.Name)
	if registry != "" {
		if !Public(registry) {
			return nil // bound to a private registry by the project's configuration
		}
		return newFinding(RulePublicSource, p, 0.8, fmt.Sprintf(
			"%s matches a private name pattern but %s sends it to the public registry %s, where anyone can publish that name",
			declared(p), where, registry))
	}
	if strings.HasPrefix(p.Name, "@") {
		// A scope nobody else can publish under if the organisation owns it
		// on npmjs: the files cannot tell.
		return nil
	}
	return newFinding(RuleUnscoped, p, 0.7, fmt.Sprintf(
		"%s matches a private name pattern, has no scope, and neither the lockfile nor the project's .npmrc/.yarnrc binds it to a private registry: npm and Yarn take it from their default public registry unless each machine's configuration says otherwise",
		declared(p)))
}

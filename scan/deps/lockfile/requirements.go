package lockfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// reqLine is one logical line of a requirements file: continuations joined,
// comments removed.
type reqLine struct {
	text string
	line int // first physical line
}

// logicalLines splits a requirements file into logical lines as pip does:
// a line ending in a backslash continues on the next, and "#" at the start
// of a line or after whitespace starts a comment.
func logicalLines(data []byte) []reqLine {
	var out []reqLine
	var cur strings.Builder
	start := 0
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if i == 0 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, `\`) {
			cur.WriteString(strings.TrimSuffix(l, `\`))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		out = append(out, reqLine{text: stripComment(cur.String()), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, reqLine{text: stripComment(cur.String()), line: start})
	}
	return out
}

// stripComment removes a "#" comment that starts the line or follows whitespace.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}

// requirement is one parsed PEP 508 requirement.
type requirement struct {
	name    string // as written
	extras  string
	spec    string // version specifier, or the URL of a direct reference
	url     bool
	markers string
}

var (
	reReqName  = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*`)
	reClause   = regexp.MustCompile(`^\s*(===|==|!=|~=|<=|>=|<|>)\s*([A-Za-z0-9_.*+!-]+)\s*$`)
	reEgg      = regexp.MustCompile(`[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)`)
	reSHA1     = regexp.MustCompile(`@([0-9a-f]{40})(?:[#&]|$)`)
	reNamedURL = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@`)
	reHashOpt  = regexp.MustCompile(`^--hash[= ]\s*([A-Za-z0-9]+:[A-Za-z0-9+/=]+)$`)
)

// parsePEP508 parses a requirement such as
// `torch[cuda]>=2.1,<2.4; python_version >= "3.9"` or `pkg @ https://…`.
func parsePEP508(s string) (requirement, error) {
	var r requirement
	s = strings.TrimSpace(s)
	m := reReqName.FindStringSubmatch(s)
	if m == nil {
		return r, errors.New("no package name")
	}
	r.name, r.extras = m[1], m[2]
	rest := s[len(m[0]):]
	if strings.HasPrefix(rest, "@") {
		rest = strings.TrimSpace(rest[1:])
		// The marker of a URL requirement must follow whitespace.
		u := rest
		if i := strings.Index(rest, " ;"); i >= 0 {
			u, r.markers = rest[:i], strings.TrimSpace(rest[i+2:])
		} else if i := strings.Index(rest, "\t;"); i >= 0 {
			u, r.markers = rest[:i], strings.TrimSpace(rest[i+2:])
		}
		u = strings.TrimSpace(u)
		if u == "" || strings.ContainsAny(u, " \t") {
			return r, fmt.Errorf("bad URL %q", u)
		}
		r.spec, r.url = u, true
		return r, nil
	}
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		rest, r.markers = rest[:i], strings.TrimSpace(rest[i+1:])
		if r.markers == "" {
			return r, errors.New("empty environment marker")
		}
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") {
		if !strings.HasSuffix(rest, ")") {
			return r, errors.New("unbalanced parenthesis")
		}
		rest = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	if rest != "" {
		for _, c := range strings.Split(rest, ",") {
			if !reClause.MatchString(c) {
				return r, fmt.Errorf("bad version specifier %q", strings.TrimSpace(c))
			}
		}
	}
	r.spec = strings.Join(strings.Fields(rest), "")
	return r, nil
}

// exactVersion returns the version of a specifier that admits exactly one
// version ("==1.2.3" or "===1.2.3"; "==1.2.*" is not one).
func exactVersion(spec string) (string, bool) {
	if strings.Contains(spec, ",") {
		return "", false
	}
	m := reClause.FindStringSubmatch(spec)
	if m == nil || (m[1] != "==" && m[1] != "===") || strings.Contains(m[2], "*") {
		return "", false
	}
	return m[2], true
}

// reqState is what the files of one requirements tree share.
type reqState struct {
	requireHashes bool
	anyHash       bool
	reqs          []int           // indexes into parser.pkgs of requirements (not constraints)
	pinnedBy      map[string]bool // names pinned by a constraint
	// index options, which pip applies to the whole tree wherever they stand
	indexURL string   // --index-url / -i, credentials removed
	extras   []string // --extra-index-url, credentials removed
	noIndex  bool     // --no-index
}

// indexOption records an index option line; it reports false for any
// other line.
func (st *reqState) indexOption(s string) bool {
	if s == "--no-index" {
		st.noIndex = true
		return true
	}
	if arg, ok := optionArg(s, "", "--extra-index-url"); ok {
		st.extras = appendIndex(st.extras, arg)
		return true
	}
	if arg, ok := optionArg(s, "-i", "--index-url"); ok {
		if arg != "" {
			st.indexURL = RedactURL(arg)
		}
		return true
	}
	return false
}

// applyIndexes sets Source or Indexes of the PyPI packages pkgs from the
// tree's index options: one --index-url binds them to it; extra indexes
// make them candidates of every index, PyPI first when no --index-url
// replaces it. Without options the index is pip's configuration, which the
// files do not show.
func (st *reqState) applyIndexes(pkgs []Package) {
	if st.noIndex || (st.indexURL == "" && len(st.extras) == 0) {
		return
	}
	var indexes []string
	if len(st.extras) > 0 {
		primary := st.indexURL
		if primary == "" {
			primary = PyPIIndex
		}
		indexes = []string{primary}
		for _, x := range st.extras {
			indexes = appendIndex(indexes, x)
		}
	}
	for i := range pkgs {
		if pkgs[i].Ecosystem != PyPI || isURLOrPath(pkgs[i].Spec) {
			continue // a direct reference names its own artifact
		}
		if indexes != nil {
			pkgs[i].Indexes = indexes
		} else {
			pkgs[i].Source = st.indexURL
		}
	}
}

// requirements parses a requirements (or constraints) file and the files it
// includes, then reports unpinned requirements and missing hashes.
func (p *parser) requirements(data []byte, constraints bool) {
	st := &reqState{pinnedBy: map[string]bool{}}
	p.stack = []string{absPath(p.path)}
	p.includes = 1
	p.reqFile(p.path, data, constraints, st)
	st.applyIndexes(p.pkgs)
	// A pip-compile input (requirements.in) is locked by the .txt next to it.
	locked := strings.HasSuffix(p.path, ".in") && hasSiblingLock(p.path, strings.TrimSuffix(filepath.Base(p.path), ".in")+".txt")
	for _, i := range st.reqs {
		pkg := p.pkgs[i]
		if !pkg.Pinned && !st.pinnedBy[pkg.Name] && !locked {
			p.reportUnpinned(pkg)
		}
	}
	if !st.requireHashes && !st.anyHash {
		return
	}
	for _, i := range st.reqs {
		pkg := p.pkgs[i]
		if len(pkg.Hashes) > 0 || (!st.requireHashes && !pkg.Pinned) {
			continue
		}
		why := "other requirements carry --hash, so pip runs in hash-checking mode"
		if st.requireHashes {
			why = "the requirements use --require-hashes"
		}
		p.report(ruleNoHash, pkg.File, pkg.Line, strings.TrimSpace(pkg.Name+" "+pkg.Spec),
			fmt.Sprintf("%s has no --hash but %s; pip will refuse to install, or the artifact is not checked", pkg.Name, why))
	}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

// reqFile parses one requirements file; constraints marks a -c file, whose
// entries pin versions but add no dependency.
func (p *parser) reqFile(file string, data []byte, constraints bool, st *reqState) {
	for _, l := range logicalLines(data) {
		if l.text == "" {
			continue
		}
		if p.full {
			return
		}
		p.reqLine(file, l, constraints, st)
	}
}

// splitOptions separates the trailing per-requirement options (--hash,
// --config-settings, --global-option) from the requirement.
func splitOptions(s string) (req string, opts []string) {
	fields := strings.Fields(s)
	i := 0
	for ; i < len(fields); i++ {
		if strings.HasPrefix(fields[i], "--") {
			break
		}
	}
	req = strings.Join(fields[:i], " ")
	for j := i; j < len(fields); j++ {
		f := fields[j]
		// Join "--hash sha256:…" written with a space.
		if (f == "--hash" || f == "--config-settings" || f == "--global-option") && j+1 < len(fields) {
			f += "=" + fields[j+1]
			j++
		}
		opts = append(opts, f)
	}
	return req, opts
}

// optionArg returns the argument of option line s for one of the names
// ("-r", "--requirement"), accepting "-r x", "-rx", "--requirement=x".
func optionArg(s string, short, long string) (string, bool) {
	switch {
	case strings.HasPrefix(s, long+"="):
		return strings.TrimSpace(s[len(long)+1:]), true
	case strings.HasPrefix(s, long+" "), strings.HasPrefix(s, long+"\t"):
		return strings.TrimSpace(s[len(long):]), true
	case short != "" && strings.HasPrefix(s, short):
		return strings.TrimSpace(strings.TrimPrefix(s[len(short):], "=")), true
	}
	return "", false
}

// reqLine handles one logical line of a requirements file.
func (p *parser) reqLine(file string, l reqLine, constraints bool, st *reqState) {
	s := l.text
	if arg, ok := optionArg(s, "-r", "--requirement"); ok {
		p.include(file, l, arg, constraints, st)
		return
	}
	if arg, ok := optionArg(s, "-c", "--constraint"); ok {
		p.include(file, l, arg, true, st)
		return
	}
	if s == "--require-hashes" {
		st.requireHashes = true
		return
	}
	if st.indexOption(s) {
		return
	}
	if arg, ok := optionArg(s, "-e", "--editable"); ok {
		s = arg
	} else if strings.HasPrefix(s, "-") {
		return // a global option: --index-url, --extra-index-url, -f, --pre, --no-binary …
	}
	reqText, opts := splitOptions(s)
	var hashes []string
	for _, o := range opts {
		if m := reHashOpt.FindStringSubmatch(o); m != nil {
			hashes = append(hashes, m[1])
		} else if strings.HasPrefix(o, "--hash") {
			p.malformed(file, l.line, o, errors.New("bad --hash option"))
		}
	}
	if len(hashes) > 0 {
		st.anyHash = true
	}
	if reqText == "" {
		p.malformed(file, l.line, s, errors.New("options without a requirement"))
		return
	}
	pkg := Package{Ecosystem: PyPI, File: file, Line: l.line, Hashes: hashes, Direct: !constraints}
	if isURLOrPath(reqText) && !reNamedURL.MatchString(reqText) {
		// A bare URL or path: name it by #egg= when there is one.
		u := reqText
		if i := strings.Index(u, " ;"); i >= 0 {
			u = strings.TrimSpace(u[:i])
		}
		m := reEgg.FindStringSubmatch(u)
		if m == nil {
			if isLocal(u) {
				return // the project itself or a local folder: nothing to look up
			}
			p.malformed(file, l.line, u, errors.New("URL requirement without #egg= name"))
			return
		}
		pkg.Name, pkg.Spec = normalise(PyPI, m[1]), u
		pkg.Pinned = urlPinned(u)
	} else {
		r, err := parsePEP508(reqText)
		if err != nil {
			p.malformed(file, l.line, reqText, err)
			return
		}
		pkg.Name, pkg.Spec = normalise(PyPI, r.name), r.spec
		if r.url {
			pkg.Pinned = urlPinned(r.spec)
		} else if v, ok := exactVersion(r.spec); ok {
			pkg.Version, pkg.Pinned = v, true
		}
	}
	if constraints {
		if pkg.Pinned {
			st.pinnedBy[pkg.Name] = true
		}
	}
	if p.add(pkg) && !constraints {
		st.reqs = append(st.reqs, len(p.pkgs)-1)
	}
}

// isURLOrPath reports a requirement written as a URL or a path rather than
// a name.
func isURLOrPath(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git+") || strings.HasPrefix(s, "hg+") ||
		strings.HasPrefix(s, "svn+") || strings.HasPrefix(s, "bzr+") || isLocal(s)
}

func isLocal(s string) bool {
	return s == "." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "/") ||
		strings.HasPrefix(s, "file:") || strings.HasPrefix(s, "~") ||
		strings.HasSuffix(s, ".whl") && !strings.Contains(s, "://") ||
		strings.HasSuffix(s, ".tar.gz") && !strings.Contains(s, "://")
}

// urlPinned reports a direct reference that names one artifact: a VCS URL
// at a full commit hash, or an archive URL (not a VCS branch or tag).
func urlPinned(u string) bool {
	if strings.HasPrefix(u, "git+") || strings.HasPrefix(u, "hg+") || strings.HasPrefix(u, "svn+") || strings.HasPrefix(u, "bzr+") {
		return reSHA1.MatchString(u)
	}
	for _, ext := range []string{".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"} {
		if strings.HasSuffix(strings.SplitN(u, "#", 2)[0], ext) {
			return true
		}
	}
	return false
}

// include parses a file named by -r or -c, relative to the including file.
func (p *parser) include(from string, l reqLine, arg string, constraints bool, st *reqState) {
	if arg == "" {
		p.malformed(from, l.line, l.text, errors.New("include without a file name"))
		return
	}
	if strings.Contains(arg, "://") {
		return // remote includes are not fetched
	}
	target := arg
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(from), target)
	}
	abs := absPath(target)
	for _, s := range p.stack {
		if s == abs {
			p.malformed(from, l.line, l.text, fmt.Errorf("include cycle through %s", arg))
			return
		}
	}
	if len(p.stack) > MaxIncludeDepth {
		p.report(ruleLimit, from, l.line, l.text, fmt.Sprintf("includes nested deeper than %d; %s was not read", MaxIncludeDepth, arg))
		return
	}
	if p.includes >= MaxIncludes {
		p.report(ruleLimit, from, l.line, l.text, fmt.Sprintf("more than %d requirements files included; %s was not read", MaxIncludes, arg))
		return
	}
	p.includes++
	data, err := readCapped(target)
	if err != nil {
		p.malformed(from, l.line, l.text, err)
		return
	}
	p.stack = append(p.stack, abs)
	p.reqFile(target, data, constraints, st)
	p.stack = p.stack[:len(p.stack)-1]
}

// readCapped reads a regular file of at most MaxFileSize bytes.
func readCapped(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("include %s: not a regular file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("include %s: %d bytes: %w", path, fi.Size(), ErrTooLarge)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("include %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("include %s: %w", path, ErrTooLarge)
	}
	return data, nil
}

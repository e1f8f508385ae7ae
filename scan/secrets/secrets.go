// Package secrets finds credentials in the files of a directory tree and in
// the history of a git repository, with the rules of the secrets detector
// (detect/secrets): Scan walks a tree on a bounded pool of workers, ScanGit
// streams `git log -p` and scans every line a commit added, including the
// lines of files that were later deleted or renamed.
//
// Every finding carries the detector's rule id, the file, line and column,
// an excerpt in which the secret is masked (redact.ExcerptHit) and a
// fingerprint (finding.Fingerprint with the secret as material), so a
// baseline of accepted findings survives edits that move the secret. A line
// holding "rampart:ignore" or "gitleaks:allow" is not reported, and a
// Baseline suppresses the findings it lists.
//
// Scan also reports credential files (.env files, private keys, PKCS#12
// bundles, cloud credential JSON, .npmrc/.pypirc/.netrc holding tokens) that
// git tracks or that no .gitignore rule covers.
package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/rampartsec/rampart/detect"
	dsecrets "github.com/rampartsec/rampart/detect/secrets"
	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/parallel"
	"github.com/rampartsec/rampart/redact"
)

// Detector is the name findings carry in their Detector field.
const Detector = "scan.secrets"

// DefaultMaxFileSize is the size above which Scan skips a file, and the
// most text ScanGit hands the detector at once for one file of one commit.
const DefaultMaxFileSize = 10 << 20

// binarySniff is how many leading bytes decide whether a file is binary: a
// NUL byte among them makes it so, as for git.
const binarySniff = 8000

// Options tune Scan and ScanGit. The zero value is ready to use.
type Options struct {
	// Workers bounds the goroutines that read and scan; zero means
	// runtime.GOMAXPROCS(0).
	Workers int
	// MaxFileSize is the size above which a file is skipped (Scan) or its
	// added lines are scanned in pieces of at most this size (ScanGit);
	// zero means DefaultMaxFileSize.
	MaxFileSize int64
	// Baseline suppresses the findings whose fingerprints it holds.
	Baseline *Baseline
	// Detector is the secrets detector to use; nil means one with every
	// rule on.
	Detector *dsecrets.Detector
	// ShowEmail reports commit authors' e-mail addresses in full; by
	// default only their domain and first letter are shown (see
	// MaskEmail).
	ShowEmail bool
	// Git is the git executable; empty means "git" from PATH.
	Git string
	// NoCredentialFiles turns off the credential-file rules in Scan.
	NoCredentialFiles bool
}

func (o *Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o *Options) maxFileSize() int64 {
	if o.MaxFileSize > 0 {
		return o.MaxFileSize
	}
	return DefaultMaxFileSize
}

func (o *Options) git() string {
	if o.Git != "" {
		return o.Git
	}
	return "git"
}

func (o *Options) detector() (*dsecrets.Detector, error) {
	if o.Detector != nil {
		return o.Detector, nil
	}
	d, err := dsecrets.New(nil)
	if err != nil {
		return nil, fmt.Errorf("secrets detector: %w", err)
	}
	return d, nil
}

// The detector's rules, re-homed on the infrastructure layer: a credential
// in a repository is a deployment problem, not a model-output one. The ids
// stay the detector's.
var (
	contentRules = sync.OnceValue(func() map[*finding.Rule]*finding.Rule {
		m := make(map[*finding.Rule]*finding.Rule)
		for _, r := range dsecrets.Rules() {
			c := *r
			c.Layer = finding.LayerInfrastructure
			c.Remediation = "Revoke and rotate the credential, remove it from the file (and from history with git filter-repo if it was committed), and load it from a secret store or the environment."
			m[r] = &c
		}
		return m
	})
)

func ruleFor(r *finding.Rule) *finding.Rule {
	if c, ok := contentRules()[r]; ok {
		return c
	}
	c := *r
	c.Layer = finding.LayerInfrastructure
	return &c
}

// Rules returns every rule Scan and ScanGit can report: the detector's
// rules on the infrastructure layer, then the credential-file rules.
func Rules() []finding.Rule {
	var out []finding.Rule
	for _, r := range dsecrets.Rules() {
		out = append(out, *ruleFor(r))
	}
	for _, k := range credKinds {
		out = append(out, *k.rule)
	}
	return out
}

// Scan reports the secrets in the files under root (a file or a directory)
// and, unless opts.NoCredentialFiles, the credential files git tracks or no
// .gitignore covers. Locations carry the path relative to root (with
// forward slashes), the line and the column. Directories named .git,
// node_modules and vendor, symbolic links, binary files (a NUL byte in the
// first 8000 bytes) and files larger than opts.MaxFileSize are skipped.
// Findings are ordered by path, then line and column.
func Scan(ctx context.Context, root string, opts Options) ([]finding.Finding, error) {
	det, err := opts.detector()
	if err != nil {
		return nil, err
	}
	files, err := walk(ctx, root, opts.maxFileSize())
	if err != nil {
		return nil, err
	}
	workers := opts.workers()
	bufs := make([][]byte, workers)
	results := make([][]finding.Finding, len(files))
	errs := make([]error, len(files))
	parallel.Each(ctx, len(files), workers, func(w, i int) {
		results[i], errs[i] = scanFile(ctx, det, files[i], &bufs[w], opts.maxFileSize())
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []finding.Finding
	for i := range files {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	if !opts.NoCredentialFiles {
		cf, err := credentialFiles(ctx, root, files, opts.git())
		if err != nil {
			return nil, err
		}
		out = append(out, cf...)
	}
	out = opts.Baseline.Filter(out)
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		if c := strings.Compare(a.Location.Path, b.Location.Path); c != 0 {
			return c
		}
		if a.Location.Line != b.Location.Line {
			return a.Location.Line - b.Location.Line
		}
		return a.Location.Column - b.Location.Column
	})
	return out, nil
}

// file is one regular file found by walk.
type file struct {
	abs  string // path to open
	rel  string // path relative to the root, with forward slashes
	size int64
	big  bool // over the size cap: not read, but still a credential-file candidate
}

var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true}

// walk lists the regular files under root.
func walk(ctx context.Context, root string, maxSize int64) ([]file, error) {
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("scan secrets: %w", err)
	}
	if fi.Mode().IsRegular() {
		return []file{{abs: root, rel: filepath.ToSlash(filepath.Base(root)), size: fi.Size(), big: fi.Size() > maxSize}}, nil
	}
	var files []file
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable subdirectory is skipped, not fatal
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, file{abs: p, rel: filepath.ToSlash(rel), size: info.Size(), big: info.Size() > maxSize})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan secrets: walk %s: %w", root, err)
	}
	return files, nil
}

// scanFile reads f into *buf (grown as needed and kept for the worker's
// next file) and reports its secrets.
func scanFile(ctx context.Context, det *dsecrets.Detector, f file, buf *[]byte, maxSize int64) ([]finding.Finding, error) {
	if f.big || f.size == 0 {
		return nil, nil
	}
	fh, err := os.Open(f.abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, nil
		}
		return nil, fmt.Errorf("scan secrets: %w", err)
	}
	defer fh.Close()
	// Read at most maxSize+1 bytes: a file that grew past the cap since
	// the walk is skipped like one that was already too big.
	want := int(min(f.size, maxSize)) + 1
	if cap(*buf) < want {
		*buf = make([]byte, want)
	}
	b := (*buf)[:want]
	n, err := io.ReadFull(fh, b)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("scan secrets: read %s: %w", f.rel, err)
	}
	if int64(n) > maxSize {
		return nil, nil
	}
	b = b[:n]
	if n == 0 || bytes.IndexByte(b[:min(n, binarySniff)], 0) >= 0 {
		return nil, nil
	}
	// The text aliases the worker's buffer: the detector does not retain
	// it, and every string a finding keeps (excerpt, fingerprint) is built
	// anew, so nothing refers to the buffer once scanText returns.
	text := unsafe.String(&b[0], n)
	return scanText(ctx, det, text, func(line int) (finding.Location, bool) {
		return finding.Location{Path: f.rel, Line: line}, true
	})
}

// scanText runs the detector over text and turns its hits into findings.
// loc maps a 1-based line of text to the finding's location (the column is
// filled in here); it returns false to drop the hit. Hits on a line marked
// with an ignore comment are dropped.
func scanText(ctx context.Context, det *dsecrets.Detector, text string, loc func(line int) (finding.Location, bool)) ([]finding.Finding, error) {
	hits, err := det.Detect(ctx, detect.Input{Text: text})
	if err != nil {
		return nil, fmt.Errorf("secrets detector: %w", err)
	}
	if len(hits) == 0 {
		return nil, nil
	}
	var out []finding.Finding
	line, lineStart, pos := 1, 0, 0 // line number and start offset of the line holding pos
	for i, h := range hits {
		if h.Start < pos { // hits are sorted by Start, so this never rewinds far
			line, lineStart, pos = 1, 0, 0
		}
		for {
			j := strings.IndexByte(text[pos:h.Start], '\n')
			if j < 0 {
				break
			}
			line++
			pos += j + 1
			lineStart = pos
		}
		pos = h.Start
		if ignored(text, h.Start, h.End) {
			continue
		}
		l, ok := loc(line)
		if !ok {
			continue
		}
		l.Column = h.Start - lineStart + 1
		r := ruleFor(h.Rule)
		f := finding.New(r, l, h.Score, redact.ExcerptHit(text, hits, i))
		f.Detector = Detector
		f.Message = fmt.Sprintf("%s found in %s", r.Title, l.Path)
		f.Fingerprint = finding.Fingerprint(r.ID, finding.Location{Path: l.Path, Commit: l.Commit}, text[h.Start:h.End])
		out = append(out, f)
	}
	return out, nil
}

// Inline markers that keep a line out of the report.
var ignoreMarkers = []string{"rampart:ignore", "gitleaks:allow"}

// ignored reports whether the first or the last line of [start, end) in
// text carries an ignore marker.
func ignored(text string, start, end int) bool {
	for _, at := range []int{start, max(start, end-1)} {
		ls := strings.LastIndexByte(text[:at], '\n') + 1
		le := strings.IndexByte(text[at:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += at
		}
		l := text[ls:le]
		for _, m := range ignoreMarkers {
			if strings.Contains(l, m) {
				return true
			}
		}
	}
	return false
}

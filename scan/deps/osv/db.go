package osv

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Format names the on-disk database layout written by Import.
const Format = "rampart-osv/1"

const indexName = "index.json"

// maxLine bounds one record line in a database file.
const maxLine = 32 << 20

// index is the database's index.json.
type index struct {
	Format     string                    `json:"format"`
	Imported   time.Time                 `json:"imported"`
	Source     string                    `json:"source"`
	Ecosystems map[string]ecosystemIndex `json:"ecosystems"`
}

type ecosystemIndex struct {
	File    string `json:"file"`
	Records int    `json:"records"`
}

// Stats describes one import.
type Stats struct {
	// Files is the number of record files read.
	Files int
	// Records is the number of records stored.
	Records int
	// Malicious counts the stored records that report malicious packages.
	Malicious int
	// Withdrawn counts records skipped because they were withdrawn.
	Withdrawn int
	// Invalid counts files skipped because they did not parse or validate;
	// Errors holds the first few reasons.
	Invalid int
	Errors  []string
	// Ecosystems counts stored records per ecosystem (a record affecting
	// packages of two ecosystems counts in both).
	Ecosystems map[string]int
}

const maxStatsErrors = 20

// Import reads the OSV records of src (a zip, a directory, or one .json or
// .yaml file; see Limits and DefaultLimits) and writes a database to
// dbDir, replacing any database there. Records that fail to parse are
// counted and skipped; exceeding a limit aborts the import and leaves any
// previous database in place.
func Import(ctx context.Context, src, dbDir string) (Stats, error) {
	return ImportWithLimits(ctx, src, dbDir, Limits{})
}

// ImportWithLimits is Import with explicit limits.
func ImportWithLimits(ctx context.Context, src, dbDir string, lim Limits) (Stats, error) {
	st := Stats{Ecosystems: map[string]int{}}
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return st, fmt.Errorf("vulnerability database: %w", err)
	}
	tmp, err := os.MkdirTemp(dbDir, ".import-")
	if err != nil {
		return st, fmt.Errorf("vulnerability database: %w", err)
	}
	defer os.RemoveAll(tmp)

	writers := map[string]*ecoWriter{}
	closeAll := func() error {
		var errs []error
		for _, w := range writers {
			errs = append(errs, w.close())
		}
		return errors.Join(errs...)
	}
	err = walk(ctx, src, lim, func(name string, data []byte) error {
		st.Files++
		recs, err := ParseRecords(name, data)
		if err != nil {
			st.Invalid++
			if len(st.Errors) < maxStatsErrors {
				st.Errors = append(st.Errors, err.Error())
			}
			return nil
		}
		for _, v := range recs {
			if v.Withdrawn != "" {
				st.Withdrawn++
				continue
			}
			stored := false
			for eco, rec := range split(v) {
				w := writers[eco]
				if w == nil {
					if w, err = newEcoWriter(tmp, eco); err != nil {
						return err
					}
					writers[eco] = w
				}
				if err := w.write(rec); err != nil {
					return err
				}
				st.Ecosystems[eco]++
				stored = true
			}
			if stored {
				st.Records++
				if v.Malicious() {
					st.Malicious++
				}
			}
		}
		return nil
	})
	if cerr := closeAll(); err == nil {
		err = cerr
	}
	if err != nil {
		return st, fmt.Errorf("import %s: %w", src, err)
	}
	idx := index{Format: Format, Imported: time.Now().UTC(), Source: filepath.Base(src), Ecosystems: map[string]ecosystemIndex{}}
	for eco, w := range writers {
		idx.Ecosystems[eco] = ecosystemIndex{File: w.file, Records: w.n}
		if err := os.Rename(filepath.Join(tmp, w.file), filepath.Join(dbDir, w.file)); err != nil {
			return st, fmt.Errorf("vulnerability database: %w", err)
		}
	}
	j, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return st, err
	}
	if err := os.WriteFile(filepath.Join(tmp, indexName), j, 0o644); err != nil {
		return st, fmt.Errorf("vulnerability database: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, indexName), filepath.Join(dbDir, indexName)); err != nil {
		return st, fmt.Errorf("vulnerability database: %w", err)
	}
	// Remove the files of ecosystems the new index no longer names.
	old, _ := filepath.Glob(filepath.Join(dbDir, "*.jsonl.gz"))
	for _, p := range old {
		keep := false
		for _, e := range idx.Ecosystems {
			keep = keep || e.File == filepath.Base(p)
		}
		if !keep {
			os.Remove(p)
		}
	}
	return st, nil
}

// split returns, per base ecosystem, a compact copy of v keeping only the
// affected entries of that ecosystem and dropping details and references.
func split(v *Vulnerability) map[string]*Vulnerability {
	out := map[string]*Vulnerability{}
	for _, a := range v.Affected {
		if a.Package.Ecosystem == "" || a.Package.Name == "" {
			continue
		}
		eco := Ecosystem(a.Package.Ecosystem)
		c := out[eco]
		if c == nil {
			cp := *v
			cp.Details, cp.References, cp.Affected = "", nil, nil
			c = &cp
			out[eco] = c
		}
		c.Affected = append(c.Affected, a)
	}
	return out
}

type ecoWriter struct {
	f    *os.File
	gz   *gzip.Writer
	bw   *bufio.Writer
	file string
	n    int
}

func ecoFile(eco string) string {
	var b strings.Builder
	for _, r := range eco {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String() + ".jsonl.gz"
}

func newEcoWriter(dir, eco string) (*ecoWriter, error) {
	name := ecoFile(eco)
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	gz := gzip.NewWriter(f)
	return &ecoWriter{f: f, gz: gz, bw: bufio.NewWriter(gz), file: name}, nil
}

func (w *ecoWriter) write(v *Vulnerability) error {
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", v.ID, err)
	}
	w.n++
	w.bw.Write(j)
	return w.bw.WriteByte('\n')
}

func (w *ecoWriter) close() error {
	return errors.Join(w.bw.Flush(), w.gz.Close(), w.f.Close())
}

// DB is an opened vulnerability database. Ecosystems load on first use;
// a DB is safe for concurrent use.
type DB struct {
	dir string
	idx index

	mu   sync.Mutex
	ecos map[string]*ecoData
}

type ecoData struct {
	once   sync.Once
	err    error
	byName map[string][]*Vulnerability
	prep   prepCache
}

// Open opens the database Import wrote to dbDir.
func Open(dbDir string) (*DB, error) {
	j, err := os.ReadFile(filepath.Join(dbDir, indexName))
	if err != nil {
		return nil, fmt.Errorf("open vulnerability database: %w", err)
	}
	var idx index
	if err := json.Unmarshal(j, &idx); err != nil {
		return nil, fmt.Errorf("open vulnerability database %s: %w", dbDir, jsonErr(err))
	}
	if idx.Format != Format {
		return nil, fmt.Errorf("open vulnerability database %s: format %q, want %q (re-run the import)", dbDir, idx.Format, Format)
	}
	for eco, e := range idx.Ecosystems {
		if e.File != filepath.Base(e.File) || !strings.HasSuffix(e.File, ".jsonl.gz") {
			return nil, fmt.Errorf("open vulnerability database %s: bad file name %q for %s", dbDir, e.File, eco)
		}
	}
	return &DB{dir: dbDir, idx: idx, ecos: map[string]*ecoData{}}, nil
}

// Imported returns when the database was imported.
func (db *DB) Imported() time.Time { return db.idx.Imported }

// Ecosystems returns the ecosystems the database holds records for, sorted.
func (db *DB) Ecosystems() []string {
	out := make([]string, 0, len(db.idx.Ecosystems))
	for e := range db.idx.Ecosystems {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func (db *DB) load(eco string) (*ecoData, error) {
	e, ok := db.idx.Ecosystems[eco]
	if !ok {
		return nil, nil
	}
	db.mu.Lock()
	d := db.ecos[eco]
	if d == nil {
		d = &ecoData{}
		db.ecos[eco] = d
	}
	db.mu.Unlock()
	d.once.Do(func() { d.byName, d.err = readEco(filepath.Join(db.dir, e.File), eco) })
	return d, d.err
}

// readEco reads one ecosystem file, keeping the latest modified copy of a
// record that occurs more than once.
func readEco(p, eco string) (map[string][]*Vulnerability, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database %s: %w", p, err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	byID := map[string]*Vulnerability{}
	line := 0
	for sc.Scan() {
		line++
		v := new(Vulnerability)
		if err := json.Unmarshal(sc.Bytes(), v); err != nil {
			return nil, fmt.Errorf("vulnerability database %s line %d: %w", p, line, jsonErr(err))
		}
		if old, ok := byID[v.ID]; ok && old.Modified > v.Modified {
			continue
		}
		byID[v.ID] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("vulnerability database %s line %d: %w", p, line+1, err)
	}
	byName := map[string][]*Vulnerability{}
	for _, v := range byID {
		seen := map[string]bool{}
		for _, a := range v.Affected {
			n := NormalizeName(eco, a.Package.Name)
			if !seen[n] {
				seen[n] = true
				byName[n] = append(byName[n], v)
			}
		}
	}
	for _, vs := range byName {
		slices.SortFunc(vs, func(a, b *Vulnerability) int { return strings.Compare(a.ID, b.ID) })
	}
	return byName, nil
}

// Vuln is a record that affects a queried package version.
type Vuln struct {
	*Vulnerability
	// Fixed lists the versions that fix the ranges the queried version is
	// in, lowest first; empty when no fix is known.
	Fixed []string
}

// PackageVersion names one package version to look up.
type PackageVersion struct {
	Ecosystem string
	Name      string
	Version   string
	// Repo and Commit, when the package is pinned to a commit of a
	// version-control repository (Repo as vcs.NormalizeRepo writes
	// it), are matched against GIT ranges; see MatchCommit.
	Repo   string
	Commit string
}

// Query returns the records affecting name@ver in ecosystem eco, sorted by
// id. An ecosystem the database does not hold yields no records (see
// Ecosystems). A version that does not parse under the ecosystem's rules
// is matched only against explicit versions lists, and err then wraps
// version.ErrInvalid alongside those results.
func (db *DB) Query(eco, name, ver string) ([]Vuln, error) {
	eco = Ecosystem(eco)
	d, err := db.load(eco)
	if err != nil || d == nil {
		return nil, err
	}
	var out []Vuln
	var verr error
	for _, v := range d.byName[NormalizeName(eco, name)] {
		hit, fixed, err := match(v, eco, name, ver, &d.prep)
		if err != nil {
			verr = err
		}
		if hit {
			out = append(out, Vuln{Vulnerability: v, Fixed: fixed})
		}
	}
	return out, verr
}

// QueryCommit returns the records of package name in ecosystem eco whose
// GIT ranges on repository repo contain commit, as far as a database
// without the repository's history can tell (see MatchCommit).
func (db *DB) QueryCommit(eco, name, repo, commit string) ([]Vuln, error) {
	eco = Ecosystem(eco)
	d, err := db.load(eco)
	if err != nil || d == nil {
		return nil, err
	}
	var out []Vuln
	for _, v := range d.byName[NormalizeName(eco, name)] {
		if hit, fixed := MatchCommit(v, eco, name, repo, commit); hit {
			out = append(out, Vuln{Vulnerability: v, Fixed: fixed})
		}
	}
	return out, nil
}

// mergeVulns adds the records of b not already in a, sorted by id.
func mergeVulns(a, b []Vuln) []Vuln {
	for _, v := range b {
		if !slices.ContainsFunc(a, func(w Vuln) bool { return w.ID == v.ID }) {
			a = append(a, v)
		}
	}
	slices.SortFunc(a, func(x, y Vuln) int { return strings.Compare(x.ID, y.ID) })
	return a
}

// Source answers vulnerability queries in batches: *DB offline, *Client
// online.
type Source interface {
	QueryBatch(ctx context.Context, pkgs []PackageVersion) ([][]Vuln, error)
}

// QueryBatch runs Query for each package; results[i] answers pkgs[i]. Bad
// versions do not fail the batch (their results hold only exact-version
// matches).
func (db *DB) QueryBatch(ctx context.Context, pkgs []PackageVersion) ([][]Vuln, error) {
	out := make([][]Vuln, len(pkgs))
	for i, p := range pkgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var vs []Vuln
		if p.Version != "" {
			var err error
			vs, err = db.Query(p.Ecosystem, p.Name, p.Version)
			if err != nil && !errors.Is(err, errInvalidVersion) {
				return nil, err
			}
		}
		if p.Commit != "" {
			cs, err := db.QueryCommit(p.Ecosystem, p.Name, p.Repo, p.Commit)
			if err != nil {
				return nil, err
			}
			vs = mergeVulns(vs, cs)
		}
		out[i] = vs
	}
	return out, nil
}

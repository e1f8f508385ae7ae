// Command osvcompare compares the vulnerabilities `rampart scan deps` and
// osv-scanner report for the same lockfiles against the same OSV data. It
// reads the JSON reports of both (written by compare.sh) and prints, per
// package version, the record ids each tool matched and whether they agree.
//
//	go run ./bench/osvcompare -rampart rampart.json -osv-scanner osv.json
package main

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

type key struct{ pkg string } // "name@version", name lower-cased

var idRE = regexp.MustCompile(`(?:affected by|malicious by) (\S+)`)

func main() {
	rampartPath := flag.String("rampart", "", "JSON report of rampart scan deps")
	osvPath := flag.String("osv-scanner", "", "JSON output of osv-scanner scan source")
	zips := flag.String("zips", "", "instead of comparing: write osv-scanner's offline database (one all.zip per ecosystem) into this folder from the records of the rampart database -db")
	db := flag.String("db", "", "rampart vulnerability database folder: the records behind both reports, used to explain differences (with -zips: the source)")
	flag.Parse()
	if *zips != "" {
		if err := writeZips(*db, *zips); err != nil {
			fail(err)
		}
		return
	}
	r, files, err := readRampart(*rampartPath)
	if err != nil {
		fail(err)
	}
	o, err := readOSVScanner(*osvPath)
	if err != nil {
		fail(err)
	}
	var names map[string][]string
	if *db != "" {
		if names, err = recordNames(*db); err != nil {
			fail(err)
		}
	}
	keys := map[key]bool{}
	for k := range r {
		keys[k] = true
	}
	for k := range o {
		keys[k] = true
	}
	sorted := make([]key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.SortFunc(sorted, func(a, b key) int { return strings.Compare(a.pkg, b.pkg) })
	agree, explained := 0, 0
	fmt.Printf("%-40s %-30s %-30s %s\n", "PACKAGE", "RAMPART", "OSV-SCANNER", "")
	for _, k := range sorted {
		a, b := ids(r[k]), ids(o[k])
		mark := "agree"
		switch {
		case slices.Equal(a, b):
			agree++
		default:
			mark = "differ"
			if why := explain(k, a, b, files[k], names); why != "" {
				explained++
				mark = "differ, explained: " + why
			}
		}
		fmt.Printf("%-40s %-30s %-30s %s\n", k.pkg, strings.Join(a, ","), strings.Join(b, ","), mark)
	}
	fmt.Printf("\n%d of %d vulnerable package versions agree; %d differ, %d of them by a known difference (docs/scan/deps-osv.md)\n",
		agree, len(sorted), len(sorted)-agree, explained)
	if agree+explained != len(sorted) {
		os.Exit(1)
	}
}

// explain names the known difference between the tools (docs/scan/deps-osv.md)
// that accounts for a package version only rampart reports, or "".
func explain(k key, rampart, osvScanner []string, files []string, names map[string][]string) string {
	if len(osvScanner) > 0 || len(rampart) == 0 {
		return ""
	}
	conda := len(files) > 0
	for _, f := range files {
		base := strings.ToLower(filepath.Base(f))
		if !strings.HasPrefix(base, "environment") || !(strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")) {
			conda = false
		}
	}
	if conda {
		return "osv-scanner reads no conda environment files"
	}
	pkg, _, _ := strings.Cut(k.pkg, "@")
	for _, id := range rampart {
		literal := false
		for _, n := range names[id] {
			if n == pkg {
				literal = true
			}
		}
		if literal || len(names[id]) == 0 {
			return ""
		}
	}
	return "the records name the package " + strings.Join(names[rampart[0]], ",") + "; osv-scanner compares PyPI names literally"
}

func ids(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func add(m map[key]map[string]bool, k key, id string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][id] = true
}

// readRampart returns the record ids per package version and the files
// that declare each package version.
func readRampart(path string) (map[key]map[string]bool, map[key][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		Findings []struct {
			RuleID   string `json:"rule_id"`
			Excerpt  string `json:"excerpt"`
			Message  string `json:"message"`
			Location struct {
				Path string `json:"path"`
			} `json:"location"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[key]map[string]bool{}
	files := map[key][]string{}
	for _, f := range doc.Findings {
		if f.RuleID != "deps.vulnerable" && f.RuleID != "deps.malicious" {
			continue
		}
		m := idRE.FindStringSubmatch(f.Message)
		if m == nil {
			return nil, nil, fmt.Errorf("%s: no record id in %q", path, f.Message)
		}
		name, version, _ := strings.Cut(f.Excerpt, "@")
		k := keyOf(name, version)
		add(out, k, strings.TrimRight(m[1], ":,.;"))
		files[k] = append(files[k], f.Location.Path)
	}
	return out, files, nil
}

// keyOf names a package version the same way for both tools: PyPI-style
// names normalised (lower case, runs of -_. as one -), Go versions without
// their "v".
func keyOf(name, version string) key {
	name = strings.ToLower(name)
	if !strings.Contains(name, "/") {
		name = strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' }), "-")
	}
	if len(version) > 1 && version[0] == 'v' && version[1] >= '0' && version[1] <= '9' {
		version = version[1:]
	}
	return key{name + "@" + version}
}

// recordNames returns, for every record of a rampart database, the package
// names its affected entries give, as written.
func recordNames(db string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(db, "*.jsonl.gz"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, p := range files {
		err := eachRecord(p, func(line []byte) error {
			var rec struct {
				ID       string `json:"id"`
				Affected []struct {
					Package struct {
						Name string `json:"name"`
					} `json:"package"`
				} `json:"affected"`
			}
			if err := json.Unmarshal(line, &rec); err != nil {
				return err
			}
			for _, a := range rec.Affected {
				out[rec.ID] = append(out[rec.ID], a.Package.Name)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return out, nil
}

// eachRecord calls fn with every line of a gzipped JSON-lines file.
func eachRecord(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

func readOSVScanner(path string) (map[key]map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name    string `json:"name"`
					Version string `json:"version"`
				} `json:"package"`
				Vulnerabilities []struct {
					ID string `json:"id"`
				} `json:"vulnerabilities"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[key]map[string]bool{}
	for _, r := range doc.Results {
		for _, p := range r.Packages {
			for _, v := range p.Vulnerabilities {
				add(out, keyOf(p.Package.Name, p.Package.Version), v.ID)
			}
		}
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "osvcompare:", err)
	os.Exit(2)
}

// writeZips turns the records of a rampart database (one gzipped JSON line
// per record, as imported, YAML records included) into osv-scanner's
// offline layout, DIR/osv-scalibr/ECOSYSTEM/all.zip, so that both tools
// read exactly the same records. GIT gets an empty zip: without it
// osv-scanner's offline mode fails.
func writeZips(db, dir string) error {
	var index struct {
		Ecosystems map[string]struct {
			File string `json:"file"`
		} `json:"ecosystems"`
	}
	b, err := os.ReadFile(filepath.Join(db, "index.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &index); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(db, "index.json"), err)
	}
	if _, ok := index.Ecosystems["GIT"]; !ok {
		index.Ecosystems["GIT"] = struct {
			File string `json:"file"`
		}{}
	}
	for eco, e := range index.Ecosystems {
		if err := writeZip(db, e.File, filepath.Join(dir, "osv-scalibr", eco)); err != nil {
			return fmt.Errorf("%s: %w", eco, err)
		}
	}
	return nil
}

func writeZip(db, file, dir string) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(dir, "all.zip"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(out)
	if file != "" {
		err := eachRecord(filepath.Join(db, file), func(line []byte) error {
			var rec struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(line, &rec); err != nil || rec.ID == "" {
				return fmt.Errorf("record without an id in %s", file)
			}
			w, err := zw.Create(rec.ID + ".json")
			if err != nil {
				return err
			}
			_, err = w.Write(line)
			return err
		})
		if err != nil {
			return err
		}
	}
	return zw.Close()
}

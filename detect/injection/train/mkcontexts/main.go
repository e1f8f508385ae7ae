// Command mkcontexts extracts the code contexts that the injection
// training command plants instructions into (and keeps clean, as hard
// negatives): function-sized snippets of the Go standard library
// (BSD-3-Clause) and the Python standard library (PSF-2.0), chosen with a
// fixed seed. Its output, detect/injection/train/contexts/code.jsonl, is
// committed, so that retraining does not depend on the installed Go or
// Python versions:
//
//	go run ./detect/injection/train/mkcontexts -goroot $(go env GOROOT) -python /usr/lib/python3.11 > detect/injection/train/contexts/code.jsonl
package main

import (
	"encoding/json"
	"flag"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

type snippet struct {
	Lang   string `json:"lang"`
	Origin string `json:"origin"`
	Path   string `json:"path"`
	Text   string `json:"text"`
}

func main() {
	goroot := flag.String("goroot", "", "Go installation whose src/ is read (go env GOROOT)")
	goVersion := flag.String("go-version", runtime.Version(), "recorded with the Go snippets")
	python := flag.String("python", "/usr/lib/python3.11", "Python standard library directory")
	pyVersion := flag.String("python-version", "3.11.7", "recorded with the Python snippets")
	n := flag.Int("n", 150, "snippets per language")
	seed := flag.Uint64("seed", 1, "seed of the choice")
	flag.Parse()
	if *goroot == "" {
		slog.Error("mkcontexts: -goroot is required (go env GOROOT)")
		os.Exit(2)
	}
	var out []snippet
	gos, err := files(filepath.Join(*goroot, "src"), ".go", func(p string) bool {
		return !strings.HasSuffix(p, "_test.go") && !strings.Contains(p, "/testdata/") &&
			!strings.Contains(p, "/vendor/") && !strings.HasPrefix(p, "cmd/")
	})
	if err != nil {
		slog.Error("mkcontexts", "err", err)
		os.Exit(1)
	}
	out = append(out, pick(gos, filepath.Join(*goroot, "src"), "go", "go "+*goVersion+" src/ (BSD-3-Clause)", *n, *seed,
		func(l string) bool { return strings.HasPrefix(l, "func ") || strings.HasPrefix(l, "type ") })...)
	pys, err := files(*python, ".py", func(p string) bool {
		return !strings.Contains(p, "test") && !strings.HasPrefix(p, "idlelib/") && !strings.HasPrefix(p, "lib2to3/") &&
			!strings.HasPrefix(p, "site-packages/") && !strings.HasPrefix(p, "dist-packages/") && !strings.Contains(p, "__pycache__")
	})
	if err != nil {
		slog.Error("mkcontexts", "err", err)
		os.Exit(1)
	}
	out = append(out, pick(pys, *python, "python", "python "+*pyVersion+" Lib/ (PSF-2.0)", *n, *seed,
		func(l string) bool {
			t := strings.TrimLeft(l, " ")
			return strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "class ")
		})...)
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, s := range out {
		if err := enc.Encode(s); err != nil {
			slog.Error("mkcontexts", "err", err)
			os.Exit(1)
		}
	}
}

func files(root, ext string, keep func(string) bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type().IsRegular() && strings.HasSuffix(p, ext) && keep(filepath.ToSlash(rel)) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// pick chooses n files with the seed and from each a run of lines that
// starts at a definition (with its preceding comment lines) and ends at a
// line boundary after 300–1200 bytes.
func pick(paths []string, root, lang, origin string, n int, seed uint64, start func(string) bool) []snippet {
	rng := rand.New(rand.NewPCG(seed, 0xc0de))
	rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	var out []snippet
	for _, p := range paths {
		if len(out) == n {
			break
		}
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || !isText(b) {
			continue
		}
		lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
		var starts []int
		for i, l := range lines {
			if start(l) {
				starts = append(starts, i)
			}
		}
		if len(starts) == 0 {
			continue
		}
		i := starts[rng.IntN(len(starts))]
		for i > 0 && isComment(lines[i-1]) {
			i--
		}
		target := 300 + rng.IntN(900)
		var s strings.Builder
		for j := i; j < len(lines) && s.Len() < target; j++ {
			s.WriteString(strings.ReplaceAll(lines[j], "\t", "    "))
			s.WriteByte('\n')
		}
		text := strings.TrimRight(s.String(), "\n")
		if len(text) < 200 || strings.Contains(strings.ToLower(text), "copyright") {
			continue
		}
		out = append(out, snippet{Lang: lang, Origin: origin, Path: p, Text: text})
	}
	return out
}

func isComment(l string) bool {
	t := strings.TrimSpace(l)
	return strings.HasPrefix(t, "//") || strings.HasPrefix(t, "#")
}

func isText(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return false
		}
	}
	return true
}

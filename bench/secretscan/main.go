// Command secretscan compares rampart's secrets scanner (scan/secrets) with
// gitleaks on one labeled corpus: a folder of generated source and
// configuration files in which the labeled rows of
// detect/secrets/testdata/dev.jsonl are planted among real Go, Markdown and
// YAML files from the Go module cache, and a git repository built from the
// same files whose history adds, renames and deletes them. It measures
// throughput (corpus bytes over the median wall-clock time of each tool's
// process) and recall and precision against the planted labels, and prints
// a table.
//
//	secretscan compare [-gitleaks PATH] [-runs 5] [-mb 24] [-work DIR]
//	secretscan scan [-git] PATH    (the rampart side: findings as JSON lines)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/secrets"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "scan":
		err = runScan(os.Args[2:])
	case "compare":
		err = runCompare(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "secretscan:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: secretscan compare [-gitleaks PATH] [-runs N] [-mb N] [-work DIR] | secretscan scan [-git] PATH")
	os.Exit(2)
}

// hit is one reported line, the common ground of both tools' reports.
type hit struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	End  int    `json:"end,omitempty"`
	Rule string `json:"rule"`
}

func runScan(args []string) error {
	fl := flag.NewFlagSet("scan", flag.ExitOnError)
	git := fl.Bool("git", false, "scan the git history of PATH")
	_ = fl.Parse(args)
	if fl.NArg() != 1 {
		usage()
	}
	ctx := context.Background()
	var (
		fs  []finding.Finding
		err error
	)
	opts := secrets.Options{NoCredentialFiles: true}
	if *git {
		fs, err = secrets.ScanGit(ctx, fl.Arg(0), opts)
	} else {
		fs, err = secrets.Scan(ctx, fl.Arg(0), opts)
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	for _, f := range fs {
		if err := enc.Encode(hit{Path: f.Location.Path, Line: f.Location.Line, Rule: f.RuleID}); err != nil {
			return err
		}
	}
	return w.Flush()
}

// label is one planted row: lines [Line, End] of Path.
type label struct {
	Path   string
	Line   int
	End    int
	Secret bool
	Family string
}

type row struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	Family string `json:"family"`
}

func runCompare(args []string) error {
	fl := flag.NewFlagSet("compare", flag.ExitOnError)
	gitleaks := fl.String("gitleaks", "gitleaks", "gitleaks executable")
	runs := fl.Int("runs", 5, "timed runs per tool and mode")
	mb := fl.Int("mb", 24, "MiB of negative code from the module cache")
	work := fl.String("work", "", "work directory (default: a new temporary one, removed afterwards)")
	dev := fl.String("labels", "detect/secrets/testdata/dev.jsonl", "labeled rows to plant")
	_ = fl.Parse(args)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *work == "" {
		d, err := os.MkdirTemp("", "secretscan-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*work = d
	}
	corpus := filepath.Join(*work, "corpus")
	repo := filepath.Join(*work, "repo")
	labels, size, err := buildCorpus(*dev, corpus, int64(*mb)<<20)
	if err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	if err := buildRepo(corpus, repo); err != nil {
		return fmt.Errorf("repo: %w", err)
	}
	nsec := 0
	for _, l := range labels {
		if l.Secret {
			nsec++
		}
	}
	fmt.Printf("corpus: %d files, %.1f MiB, %d planted rows (%d secret, %d not)\n", countFiles(corpus), float64(size)/(1<<20), len(labels), nsec, len(labels)-nsec)
	report := filepath.Join(*work, "gitleaks.json")
	type tool struct {
		name string
		cmd  func(target string, git bool) *exec.Cmd
		read func(out []byte) ([]hit, error)
	}
	tools := []tool{
		{
			name: "rampart",
			cmd: func(target string, git bool) *exec.Cmd {
				a := []string{"scan"}
				if git {
					a = append(a, "-git")
				}
				return exec.Command(self, append(a, target)...)
			},
			read: readRampart,
		},
	}
	// gitleaks with its defaults, and with recursive decoding off (its
	// behaviour before v8.20, and its fastest setting).
	for _, decode := range []string{"5", "0"} {
		name := "gitleaks " + gitleaksVersion(*gitleaks)
		if decode == "0" {
			name += " decode=0"
		}
		tools = append(tools, tool{
			name: name,
			cmd: func(target string, git bool) *exec.Cmd {
				mode := "dir"
				if git {
					mode = "git"
				}
				c := exec.Command(*gitleaks, mode, target, "--no-banner", "--log-level", "error", "--max-decode-depth", decode,
					"--report-format", "json", "--report-path", report, "--exit-code", "0")
				c.Dir = *work
				return c
			},
			read: func([]byte) ([]hit, error) { return readGitleaks(report) },
		})
	}
	fmt.Printf("\n%-8s %-22s %10s %10s %8s %8s %10s %10s %10s\n", "mode", "tool", "median s", "MiB/s", "recall", "prec.", "prec.all", "FP rows", "unlabeled")
	var floor []float64
	for _, git := range []bool{false, true} {
		target, mode := corpus, "dir"
		if git {
			target, mode = repo, "git"
		}
		// Round-robin: every run times each tool once, so that the tools
		// share whatever load the machine is under.
		times := make([][]float64, len(tools))
		hits := make([][]hit, len(tools))
		for range *runs {
			for i, t := range tools {
				c := t.cmd(target, git)
				c.Stderr = os.Stderr
				start := time.Now()
				out, err := c.Output()
				el := time.Since(start).Seconds()
				if err != nil {
					return fmt.Errorf("%s %s: %w", t.name, mode, err)
				}
				times[i] = append(times[i], el)
				if hits[i], err = t.read(out); err != nil {
					return fmt.Errorf("%s %s: %w", t.name, mode, err)
				}
			}
			if git {
				// The floor of both tools: the git log -p they both stream.
				c := exec.Command("git", "-C", target, "log", "-p", "--all", "--full-history", "--no-color",
					"--unified=0", "-M", "--diff-filter=ACMRT")
				start := time.Now()
				if err := c.Run(); err != nil {
					return fmt.Errorf("git log -p: %w", err)
				}
				floor = append(floor, time.Since(start).Seconds())
			}
		}
		var speeds []float64
		for i, t := range tools {
			slices.Sort(times[i])
			med := times[i][len(times[i])/2]
			s := score(target, labels, hits[i])
			speed := float64(size) / (1 << 20) / med
			speeds = append(speeds, speed)
			fmt.Printf("%-8s %-31s %10.3f %10.1f %8.3f %8.3f %10.3f %10d %10d\n", mode, t.name, med, speed, s.recall(), s.precision(), s.precisionAll(), s.fpRows, s.unlabeled)
			if os.Getenv("SECRETSCAN_MISSES") != "" {
				for _, m := range s.missed {
					fmt.Printf("    missed %s:%d (%s)\n", m.Path, m.Line, m.Family)
				}
			}
		}
		if git {
			slices.Sort(floor)
			med := floor[len(floor)/2]
			fmt.Printf("%-8s %-31s %10.3f %10.1f\n", mode, "git log -p alone (floor)", med, float64(size)/(1<<20)/med)
		}
		fmt.Printf("%-8s rampart/gitleaks throughput: %.2fx (defaults), %.2fx (decode=0)\n", mode, speeds[0]/speeds[1], speeds[0]/speeds[2])
	}
	return nil
}

func gitleaksVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	v := strings.TrimSpace(string(out))
	if err != nil || v == "" || strings.Contains(v, " ") {
		return "v8.30.1"
	}
	return v
}

func readRampart(out []byte) ([]hit, error) {
	var hs []hit
	for l := range strings.SplitSeq(string(out), "\n") {
		if l == "" {
			continue
		}
		var h hit
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

func readGitleaks(path string) ([]hit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []struct {
		File      string
		StartLine int
		EndLine   int
		RuleID    string
	}
	if err := json.Unmarshal(data, &rs); err != nil {
		return nil, err
	}
	hs := make([]hit, len(rs))
	for i, r := range rs {
		hs[i] = hit{Path: filepath.ToSlash(r.File), Line: r.StartLine, End: r.EndLine, Rule: r.RuleID}
	}
	return hs, nil
}

type scores struct {
	tp, fn, fpRows, tn, unlabeled int
	missed                        []label
}

func (s scores) recall() float64       { return ratio(s.tp, s.tp+s.fn) }
func (s scores) precision() float64    { return ratio(s.tp, s.tp+s.fpRows) }
func (s scores) precisionAll() float64 { return ratio(s.tp, s.tp+s.fpRows+s.unlabeled) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// score matches reported lines to planted rows: a secret row is found when
// a report touches one of its lines; a non-secret row touched is a false
// positive; distinct reported lines outside every planted row are counted
// as unlabeled (the negative code comes from real modules, so they are
// false positives or secrets shipped in public code).
func score(root string, labels []label, hits []hit) scores {
	byPath := map[string][]int{}
	for i, l := range labels {
		byPath[l.Path] = append(byPath[l.Path], i)
	}
	touched := make([]bool, len(labels))
	outside := map[string]bool{}
	for _, h := range hits {
		p := h.Path
		// gitleaks dir reports paths as given (absolute): make them
		// relative to the scanned root.
		if filepath.IsAbs(p) {
			if r, err := filepath.Rel(root, p); err == nil {
				p = r
			}
		}
		p = strings.TrimPrefix(filepath.ToSlash(p), "./")
		end := max(h.End, h.Line)
		hitAny := false
		for _, i := range byPath[p] {
			l := labels[i]
			if h.Line <= l.End && end >= l.Line {
				touched[i] = true
				hitAny = true
			}
		}
		if !hitAny {
			outside[fmt.Sprintf("%s:%d", p, h.Line)] = true
		}
	}
	var s scores
	for i, l := range labels {
		switch {
		case l.Secret && touched[i]:
			s.tp++
		case l.Secret:
			s.fn++
			s.missed = append(s.missed, l)
		case touched[i]:
			s.fpRows++
		default:
			s.tn++
		}
	}
	s.unlabeled = len(outside)
	return s
}

// buildCorpus writes the corpus under dir: negative files copied from the
// module cache (up to negBytes, no tests, no testdata) and one generated
// file per labeled row, the row between lines of negative code. It
// returns the labels and the corpus size in bytes.
func buildCorpus(devPath, dir string, negBytes int64) ([]label, int64, error) {
	rows, err := readRows(devPath)
	if err != nil {
		return nil, 0, err
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return nil, 0, fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	negs, err := negatives(strings.TrimSpace(string(modcache)), negBytes)
	if err != nil {
		return nil, 0, err
	}
	if len(negs) == 0 {
		return nil, 0, errors.New("no negative files found in the module cache")
	}
	var size int64
	var pool []string // lines of negative code, for the planted files' context
	for i, n := range negs {
		data, err := os.ReadFile(n.abs)
		if err != nil {
			return nil, 0, err
		}
		dst := filepath.Join(dir, "code", n.rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, 0, err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, 0, err
		}
		size += int64(len(data))
		if i%20 == 0 && len(pool) < 20000 {
			pool = append(pool, strings.Split(string(data), "\n")...)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	exts := []string{".py", ".env.yaml", ".sh", ".txt", ".cfg", ".js", ".toml", ".ini"}
	var labels []label
	for i, r := range rows {
		var b strings.Builder
		before := 5 + rng.IntN(40)
		start := rng.IntN(max(1, len(pool)-100))
		for _, l := range pool[start : start+before] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		rel := fmt.Sprintf("planted/%s/%04d%s", r.Family, i, exts[i%len(exts)])
		n := strings.Count(r.Text, "\n") + 1
		labels = append(labels, label{Path: rel, Line: before + 1, End: before + n, Secret: r.Label == "secret", Family: r.Family})
		b.WriteString(r.Text)
		b.WriteByte('\n')
		for _, l := range pool[start+before : start+before+5+rng.IntN(40)] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, 0, err
		}
		if err := os.WriteFile(dst, []byte(b.String()), 0o644); err != nil {
			return nil, 0, err
		}
		size += int64(b.Len())
	}
	return labels, size, nil
}

func readRows(p string) ([]row, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var rows []row
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r row
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", p, i+1, err)
		}
		if r.Family == "" {
			r.Family = "none"
		}
		r.Family = strings.Map(func(c rune) rune {
			if c == '/' || c == ' ' {
				return '_'
			}
			return c
		}, r.Family)
		rows = append(rows, r)
	}
	return rows, nil
}

type negFile struct{ abs, rel string }

// negatives picks .go, .md and .yaml files from the module cache, skipping
// tests and testdata, in a fixed order, up to total bytes.
func negatives(root string, total int64) ([]negFile, error) {
	var out []negFile
	var n int64
	stop := errors.New("enough")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "cache", "vendor", "node_modules", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		ext := filepath.Ext(name)
		if (ext != ".go" && ext != ".md" && ext != ".yaml") || strings.HasSuffix(name, "_test.go") || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > 256<<10 {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, negFile{p, rel})
		n += info.Size()
		if n >= total {
			return stop
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return nil, err
	}
	return out, nil
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// buildRepo makes a git repository with the corpus in its history: the
// negative code and the planted files in four commits, then a commit that
// renames a third of the planted files and one that deletes another
// third, so the secrets live only in history.
func buildRepo(corpus, repo string) error {
	if err := os.MkdirAll(repo, 0o755); err != nil {
		return err
	}
	env := append(os.Environ(), "GIT_AUTHOR_NAME=Bench", "GIT_AUTHOR_EMAIL=bench@example.com",
		"GIT_COMMITTER_NAME=Bench", "GIT_COMMITTER_EMAIL=bench@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	git := func(args ...string) error {
		c := exec.Command("git", append([]string{"-C", repo}, args...)...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := git("init", "-q", "-b", "main"); err != nil {
		return err
	}
	if err := os.CopyFS(repo, os.DirFS(corpus)); err != nil {
		return err
	}
	var planted []string
	_ = filepath.WalkDir(filepath.Join(repo, "planted"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(repo, p)
			planted = append(planted, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(planted)
	if err := git("add", "code"); err != nil {
		return err
	}
	if err := git("commit", "-q", "-m", "vendor code"); err != nil {
		return err
	}
	for part := range 3 {
		for i, p := range planted {
			if i%3 == part {
				if err := git("add", p); err != nil {
					return err
				}
			}
		}
		if err := git("commit", "-q", "-m", fmt.Sprintf("config part %d", part)); err != nil {
			return err
		}
	}
	for i, p := range planted {
		switch i % 3 {
		case 1:
			if err := git("mv", p, p+".old"); err != nil {
				return err
			}
		case 2:
			if err := git("rm", "-q", p); err != nil {
				return err
			}
		}
	}
	return git("commit", "-q", "-m", "rename and remove secrets")
}

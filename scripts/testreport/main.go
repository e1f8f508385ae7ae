// Command testreport reads `go test -json` on standard input and prints a
// short report: each package's result line, the whole output of every
// failed test, and every skipped test with its reason. It ends with the
// line "tests: N passed, N failed, N skipped".
//
// A skipped test fails the run, since integration tests must run, not
// skip; except tests listed in the -allow file (lines "PACKAGE TEST
// reason", "#" comments) and fuzz inputs that a fuzz target rejects. With -rerun FILE, the other skipped tests are
// written to FILE as "PACKAGE<TAB>-run pattern" lines, to be run again
// without the race detector, and when skips are the only problem the exit
// code is 3.
//
// Exit codes: 0 all passed, 1 a test or package failed (or a skip without
// -rerun), 2 bad usage or input, 3 only skips to run again.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

type testID struct{ pkg, test string }

// report accumulates a run.
type report struct {
	out          io.Writer
	allowed      map[testID]bool
	output       map[testID]*strings.Builder // output of running tests
	reason       map[testID]string           // last output line of a skipped test
	passed       int
	failed       []testID
	skipped      []testID
	allowedSkips []testID
	pkgFail      []string
	build        map[string]*strings.Builder // build output by import path
}

func main() {
	allowFile := flag.String("allow", "", "file of skips that are allowed: `PACKAGE TEST reason` lines")
	rerunFile := flag.String("rerun", "", "write the other skipped tests to this file instead of failing on them")
	summaryFile := flag.String("summary", "", "also write the closing line to this file")
	flag.Parse()
	allowed, err := readAllow(*allowFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	r := newReport(os.Stdout, allowed)
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	os.Exit(r.finish(*rerunFile, *summaryFile))
}

// newReport returns a report that writes to out and allows the skips in
// allowed.
func newReport(out io.Writer, allowed map[testID]bool) *report {
	return &report{out: out, allowed: allowed, output: map[testID]*strings.Builder{},
		reason: map[testID]string{}, build: map[string]*strings.Builder{}}
}

// readAllow parses the allow file; an empty path allows nothing.
func readAllow(path string) (map[testID]bool, error) {
	m := map[testID]bool{}
	if path == "" {
		return m, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read allowed skips: %w", err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want PACKAGE TEST reason", path, i+1)
		}
		m[testID{f[0], f[1]}] = true
	}
	return m, nil
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			// Not JSON: go's own complaints (a package that does not
			// build, a bad flag) — show them.
			fmt.Fprintf(r.out, "%s\n", line)
			continue
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			fmt.Fprintf(r.out, "%s\n", line)
			continue
		}
		r.handle(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read go test output: %w", err)
	}
	return nil
}

func (r *report) handle(e event) {
	switch e.Action {
	case "build-output":
		b := r.build[e.ImportPath]
		if b == nil {
			b = &strings.Builder{}
			r.build[e.ImportPath] = b
		}
		b.WriteString(e.Output)
		return
	case "build-fail":
		fmt.Fprintf(r.out, "BUILD FAILED %s\n%s", e.ImportPath, r.build[e.ImportPath])
		return
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			// Package-level lines: keep results and anything unusual
			// (panics outside tests, TestMain output), drop the noise.
			s := e.Output
			if s == "PASS\n" || strings.HasPrefix(s, "=== ") || strings.HasPrefix(s, "testing: warning: no tests") {
				return
			}
			fmt.Fprint(r.out, s)
		case "fail":
			r.pkgFail = append(r.pkgFail, e.Package)
		}
		return
	}
	id := testID{e.Package, e.Test}
	switch e.Action {
	case "run":
		r.output[id] = &strings.Builder{}
	case "output":
		b := r.output[id]
		if b == nil {
			b = &strings.Builder{}
			r.output[id] = b
		}
		b.WriteString(e.Output)
		if s := strings.TrimSpace(e.Output); s != "" && !strings.HasPrefix(s, "---") && !strings.HasPrefix(s, "===") {
			r.reason[id] = s
		}
	case "pass":
		r.passed++
		delete(r.output, id)
	case "fail":
		r.failed = append(r.failed, id)
		fmt.Fprintf(r.out, "--- FAIL: %s (%s)\n%s", e.Test, e.Package, r.output[id])
		delete(r.output, id)
	case "skip":
		// A fuzz target skips the inputs it rejects (its seed corpus
		// runs as subtests): that is not a test that did not run.
		if r.allowed[id] || (strings.HasPrefix(e.Test, "Fuzz") && strings.Contains(e.Test, "/")) {
			r.allowedSkips = append(r.allowedSkips, id)
		} else {
			r.skipped = append(r.skipped, id)
		}
		delete(r.output, id)
	}
}

// finish prints the summary and returns the exit code.
func (r *report) finish(rerunFile, summaryFile string) int {
	for _, id := range r.allowedSkips {
		fmt.Fprintf(r.out, "allowed skip: %s %s (%s)\n", id.pkg, id.test, r.reason[id])
	}
	if len(r.skipped) > 0 {
		why := "integration tests must run, not skip"
		if rerunFile != "" {
			why = "to run again without the race detector"
		}
		fmt.Fprintf(r.out, "\n%d skipped test(s), %s:\n", len(r.skipped), why)
		for _, id := range r.skipped {
			fmt.Fprintf(r.out, "  SKIP %s %s: %s\n", id.pkg, id.test, r.reason[id])
		}
	}
	if len(r.failed) > 0 {
		fmt.Fprintf(r.out, "\n%d failed test(s):\n", len(r.failed))
		for _, id := range r.failed {
			fmt.Fprintf(r.out, "  FAIL %s %s\n", id.pkg, id.test)
		}
	}
	// A package can fail without a failed test (a build error, a panic
	// or os.Exit in TestMain).
	failed := len(r.failed)
	if failed == 0 && len(r.pkgFail) > 0 {
		failed = len(r.pkgFail)
	}
	sort.Strings(r.pkgFail)
	if len(r.pkgFail) > 0 {
		fmt.Fprintf(r.out, "failed packages: %s\n", strings.Join(r.pkgFail, " "))
	}
	closing := fmt.Sprintf("tests: %d passed, %d failed, %d skipped", r.passed, failed, len(r.skipped)+len(r.allowedSkips))
	fmt.Fprintln(r.out, closing)
	if summaryFile != "" {
		if err := os.WriteFile(summaryFile, []byte(closing+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			return 2
		}
	}
	switch {
	case failed > 0:
		return 1
	case len(r.skipped) == 0:
		return 0
	case rerunFile == "":
		return 1
	}
	if err := writeRerun(rerunFile, r.skipped); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		return 2
	}
	return 3
}

// writeRerun writes one "PACKAGE<TAB>pattern" line per package, the
// pattern selecting the top-level tests that skipped or had a subtest
// skip.
func writeRerun(path string, skipped []testID) error {
	byPkg := map[string][]string{}
	var pkgs []string
	seen := map[testID]bool{}
	for _, id := range skipped {
		top, _, _ := strings.Cut(id.test, "/")
		if seen[testID{id.pkg, top}] {
			continue
		}
		seen[testID{id.pkg, top}] = true
		if byPkg[id.pkg] == nil {
			pkgs = append(pkgs, id.pkg)
		}
		byPkg[id.pkg] = append(byPkg[id.pkg], regexp.QuoteMeta(top))
	}
	var b strings.Builder
	for _, pkg := range pkgs {
		fmt.Fprintf(&b, "%s\t^(%s)$\n", pkg, strings.Join(byPkg[pkg], "|"))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return errors.New("write rerun list: " + err.Error())
	}
	return nil
}

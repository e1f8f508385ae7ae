// Command mkdev builds the secrets detector's labelled evaluation files in
// detect/secrets/testdata from three sources:
//
//   - the true and false cases of every rule in detect/secrets/rules.yaml
//     (source "rules": the rules were written against them, so figures on
//     them are reported apart);
//   - the rule examples of Nosey Parker and Kingfisher in the shared
//     datasets (secrets-noseyparker, secrets-kingfisher; Apache-2.0),
//     restricted to the rule families the detector claims (see families);
//     the rest go to out-of-scope.jsonl;
//   - realistic negatives: chunks of this repository's own Go code and
//     documentation, go.sum lines, and generated UUIDs, git SHAs, digests,
//     lockfile integrity hashes and base64 images.
//
// Shared rows and negatives are split by a seeded hash of their text into a
// tuning half (tune.jsonl: may be read while writing rules) and a dev half
// (dev.jsonl: for reporting only). Run from the repository root:
//
//	go run ./detect/secrets/internal/mkdev -shared ../shared/datasets -seed 1
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// families maps upstream rule ids to the detector's rule families. Only
// these rows are in scope; the mapping was fixed from the rule names
// before either split was read.
var families = map[string]string{
	"np.openai.1": "openai", "kingfisher.openai.1": "openai",
	"np.anthropic.1": "anthropic", "kingfisher.anthropic.1": "anthropic",
	"np.huggingface.1": "huggingface", "kingfisher.huggingface.1": "huggingface",
	"np.groq.1": "groq", "kingfisher.groq.1": "groq",
	"kingfisher.azureopenai.1": "azure-openai",
	"np.aws.1":                 "aws", "np.aws.2": "aws", "np.aws.6": "aws",
	"kingfisher.aws.1": "aws", "kingfisher.aws.2": "aws",
	"np.google.5": "google", "kingfisher.gcp.1": "google",
	"np.azure.1": "azure", "kingfisher.azure.1": "azure", "kingfisher.azurestorage.key.1": "azure",
	"np.github.1": "github", "np.github.2": "github", "np.github.3": "github", "np.github.4": "github", "np.github.7": "github",
	"kingfisher.github.1": "github", "kingfisher.github.2": "github", "kingfisher.github.3": "github",
	"kingfisher.github.4": "github", "kingfisher.github.7": "github",
	"np.gitlab.1": "gitlab", "np.gitlab.2": "gitlab", "np.gitlab.3": "gitlab",
	"kingfisher.gitlab.1": "gitlab", "kingfisher.gitlab.2": "gitlab", "kingfisher.gitlab.3": "gitlab",
	"np.slack.2": "slack", "np.slack.3": "slack", "np.slack.4": "slack", "np.slack.5": "slack", "np.slack.6": "slack",
	"kingfisher.slack.1": "slack", "kingfisher.slack.2": "slack", "kingfisher.slack.4": "slack",
	"np.stripe.1": "stripe", "kingfisher.stripe.1": "stripe", "kingfisher.stripe.2": "stripe",
	"np.jwt.1": "jwt", "kingfisher.jwt.1": "jwt",
	"np.pem.1": "private-key", "kingfisher.pem.1": "private-key",
	"kingfisher.privkey.1": "private-key", "kingfisher.privkey.2": "private-key",
	"np.postgres.1": "database", "kingfisher.postgres.1": "database",
	"np.mongodb.1": "database", "kingfisher.mongodb.3": "database", "kingfisher.mysql.1": "database",
	"kingfisher.rabbitmq.1": "database", "kingfisher.credentials.1": "database", "kingfisher.uri.1": "database",
	"np.odbc.1": "database", "kingfisher.odbc.1": "database",
	"np.generic.1": "generic", "np.generic.2": "generic", "np.generic.5": "generic", "np.generic.6": "generic",
	"np.generic.11": "generic", "np.generic.12": "generic", "np.generic.15": "generic", "np.generic.16": "generic",
	"kingfisher.generic.1": "generic", "kingfisher.generic.2": "generic", "kingfisher.generic.5": "generic",
	"np.npm.1": "npm", "kingfisher.npm.1": "npm", "kingfisher.npm.2": "npm",
	"np.pypi.1": "pypi", "kingfisher.pypi.1": "pypi",
	"np.twilio.1": "twilio", "kingfisher.twilio.2": "twilio",
	"np.sendgrid.1": "sendgrid", "kingfisher.sendgrid.1": "sendgrid",
	"kingfisher.datadog.1": "datadog", "kingfisher.datadog.2": "datadog",
	"kingfisher.replicate.1": "replicate", "kingfisher.xai.1": "xai",
}

// Row is one line of the output files.
type Row struct {
	Text     string `json:"text"`
	Label    string `json:"label"`
	Family   string `json:"family"`
	Source   string `json:"source"`
	Upstream string `json:"upstream_rule,omitempty"`
	// UpstreamLabel is the source's label where the placeholder policy
	// changed it (see placeholder).
	UpstreamLabel string `json:"upstream_label,omitempty"`
	Split         string `json:"split,omitempty"`
}

func main() {
	shared := flag.String("shared", "../shared/datasets", "the shared datasets directory")
	seed := flag.Uint64("seed", 1, "seed of the tune/dev split and of the generated negatives")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	if err := run(*root, *shared, *seed); err != nil {
		slog.Error("mkdev", "err", err)
		os.Exit(1)
	}
}

func run(root, shared string, seed uint64) error {
	out := filepath.Join(root, "detect", "secrets", "testdata")
	var dev, tune, oos []Row
	add := func(r Row) {
		if half(seed, r.Text) {
			r.Split = "dev"
			dev = append(dev, r)
		} else {
			r.Split = "tune"
			tune = append(tune, r)
		}
	}
	// Rules' own cases: all in dev.jsonl, reported apart.
	rules, err := ruleCases(filepath.Join(root, "detect", "secrets", "rules.yaml"))
	if err != nil {
		return err
	}
	dev = append(dev, rules...)
	// Shared rows.
	in, out2, err := sharedRows(shared)
	if err != nil {
		return err
	}
	for _, r := range in {
		add(r)
	}
	oos = out2
	// Realistic negatives.
	negs, err := negatives(root, seed)
	if err != nil {
		return err
	}
	for _, r := range negs {
		add(r)
	}
	for name, rows := range map[string][]Row{"dev.jsonl": dev, "tune.jsonl": tune, "out-of-scope.jsonl": oos} {
		if err := write(filepath.Join(out, name), rows); err != nil {
			return err
		}
		slog.Info("wrote", "file", name, "rows", len(rows), "secret", count(rows, "secret"))
	}
	return nil
}

func count(rows []Row, label string) int {
	n := 0
	for _, r := range rows {
		if r.Label == label {
			n++
		}
	}
	return n
}

// half reports whether text falls in the dev half for seed.
func half(seed uint64, text string) bool {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(text))
	return h.Sum64()&1 == 0
}

type ruleSpec struct {
	ID        string   `yaml:"id"`
	Family    string   `yaml:"family"`
	Examples  []string `yaml:"examples"`
	Negatives []string `yaml:"negatives"`
}

// ruleCases reads the rules file's examples and negatives.
func ruleCases(path string) ([]Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	var f struct {
		Rules []ruleSpec `yaml:"rules"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("rules: %s: %w", path, err)
	}
	var rows []Row
	for _, r := range f.Rules {
		for _, t := range r.Examples {
			rows = append(rows, Row{Text: t, Label: "secret", Family: r.Family, Source: "rules", Upstream: r.ID})
		}
		for _, t := range r.Negatives {
			rows = append(rows, Row{Text: t, Label: "non-secret", Family: r.Family, Source: "rules", Upstream: r.ID})
		}
	}
	return rows, nil
}

type sharedRow struct {
	Text   string `json:"text"`
	Label  string `json:"label"`
	RuleID string `json:"rule_id"`
	Source string `json:"source"`
}

// sharedRows reads the Nosey Parker and Kingfisher rows, drops texts that
// appear with both labels, keeps one copy of each text, and sorts them
// into in-scope and out-of-scope rows.
func sharedRows(dir string) (in, out []Row, err error) {
	type seen struct {
		row    Row
		labels map[string]bool
	}
	byText := map[string]*seen{}
	var order []string
	for _, name := range []string{"secrets-noseyparker", "secrets-kingfisher"} {
		f, err := os.Open(filepath.Join(dir, name, "data.jsonl"))
		if err != nil {
			return nil, nil, fmt.Errorf("shared data: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var r sharedRow
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				return nil, nil, fmt.Errorf("%s: %w", name, err)
			}
			fam, ok := families[r.RuleID]
			if !ok {
				fam = ""
			}
			s := byText[r.Text]
			if s == nil {
				s = &seen{row: Row{Text: r.Text, Label: r.Label, Family: fam, Source: r.Source, Upstream: r.RuleID}, labels: map[string]bool{}}
				byText[r.Text] = s
				order = append(order, r.Text)
			} else if s.row.Family == "" && fam != "" {
				s.row.Family, s.row.Source, s.row.Upstream, s.row.Label = fam, r.Source, r.RuleID, r.Label
			}
			s.labels[r.Label] = true
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	dropped, relabelled := 0, 0
	for _, t := range order {
		s := byText[t]
		if len(s.labels) > 1 {
			dropped++
			continue
		}
		if s.row.Label == "secret" && placeholder(s.row.Text) {
			s.row.UpstreamLabel, s.row.Label = "secret", "non-secret"
			relabelled++
		}
		if s.row.Family == "" {
			r := s.row
			r.Family = "out-of-scope"
			out = append(out, r)
			continue
		}
		in = append(in, s.row)
	}
	slog.Info("shared rows", "in-scope", len(in), "out-of-scope", len(out), "conflicting labels dropped", dropped, "placeholders relabelled", relabelled)
	return in, out, nil
}

// placeholderMarks are the markers of documented examples and
// placeholders ("sk-xxxx", "YOUR_API_KEY", "dummy", "fake").
var placeholderMarks = []string{"xxxx", "your", "dummy", "fake", "changeme", "placeholder"}

// placeholder reports whether a text the source labels a secret carries a
// placeholder by the definition, in a token of at least 8 bytes
// (tokens are split at spaces, quotes and = : ; , ( )): one of
// placeholderMarks, a six-byte ascending run ("ABCDEF", "123456") or,
// outside PEM keys (whose DER bodies have runs of "A"), a byte repeated
// eight times ("aaaaaaaa", "00000000"). Such rows are labelled non-secret
// (the detector must not report placeholders) and keep the source's label
// in upstream_label. The policy was fixed from the issue text; it does not
// look at what the detector matched.
func placeholder(text string) bool {
	pem := strings.Contains(text, "-----BEGIN")
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
		return r <= ' ' || strings.ContainsRune("\"'`=:;,()", r)
	}) {
		if len(tok) < 8 {
			continue
		}
		low := strings.ToLower(tok)
		for _, m := range placeholderMarks {
			if strings.Contains(low, m) {
				return true
			}
		}
		rep, asc := 1, 1
		for i := 1; i < len(tok); i++ {
			alnum := isAlnum(tok[i]) && isAlnum(tok[i-1])
			rep = next(rep, alnum && tok[i] == tok[i-1])
			asc = next(asc, alnum && tok[i] == tok[i-1]+1)
			if rep >= 8 && !pem || asc >= 6 {
				return true
			}
		}
	}
	return false
}

func next(n int, more bool) int {
	if more {
		return n + 1
	}
	return 1
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// negatives makes realistic texts without secrets.
func negatives(root string, seed uint64) ([]Row, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x5ec7e75))
	var rows []Row
	neg := func(family, text string) {
		rows = append(rows, Row{Text: text, Label: "non-secret", Family: family, Source: "rampart-negatives"})
	}
	// Chunks of the repository's own code and docs (not the secrets
	// package, not test files, not test data).
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" ||
				p == filepath.Join(root, "detect", "secrets")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("negatives: %w", err)
	}
	sort.Strings(files)
	for i := 0; i < 240 && len(files) > 0; i++ {
		p := files[r.IntN(len(files))]
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("negatives: %w", err)
		}
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) < 3 {
			continue
		}
		start := r.IntN(len(lines))
		n := 5 + r.IntN(40)
		end := min(len(lines), start+n)
		chunk := string(bytes.Join(lines[start:end], []byte("\n")))
		if strings.TrimSpace(chunk) == "" {
			continue
		}
		fam := "code"
		if strings.HasSuffix(p, ".md") {
			fam = "docs"
		}
		neg(fam, chunk)
	}
	// go.sum lines: module hashes.
	if data, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for i := 0; i < 40 && len(lines) > 0; i++ {
			neg("lockfile", lines[r.IntN(len(lines))])
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("negatives: %w", err)
	}
	const hex = "0123456789abcdef"
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	rnd := func(alpha string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	uuid := func() string {
		u := rnd(hex, 32)
		return u[:8] + "-" + u[8:12] + "-4" + u[13:16] + "-a" + u[17:20] + "-" + u[20:]
	}
	templates := []struct {
		family string
		make   func() string
	}{
		{"uuid", func() string { return "Request " + uuid() + " failed with status 503; retrying in 2s." }},
		{"uuid", func() string { return `{"id": "` + uuid() + `", "user_id": "` + uuid() + `", "status": "active"}` }},
		{"uuid", func() string { return "trace_id=" + rnd(hex, 32) + " span_id=" + rnd(hex, 16) }},
		{"git-sha", func() string {
			return "commit " + rnd(hex, 40) + "\nAuthor: Ada <ada@example.org>\n\n    Fix the flaky test"
		}},
		{"git-sha", func() string { return "Merged in " + rnd(hex, 7) + "; see " + rnd(hex, 40) + " for the revert." }},
		{"digest", func() string { return "image: ghcr.io/acme/api@sha256:" + rnd(hex, 64) }},
		{"digest", func() string { return rnd(hex, 64) + "  rampart_linux_amd64.tar.gz" }},
		{"digest", func() string { return "md5sum: " + rnd(hex, 32) + "\nsha1: " + rnd(hex, 40) }},
		{"lockfile", func() string {
			return `"node_modules/lodash": {"version": "4.17.21", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz", "integrity": "sha512-` + rnd(b64, 86) + `=="}`
		}},
		{"lockfile", func() string { return "lodash@^4.17.21:\n  integrity sha1-" + rnd(b64, 27) + "=" }},
		{"base64-image", func() string {
			return `<img alt="logo" src="data:image/png;base64,iVBORw0KGgo` + rnd(b64, 200+r.IntN(400)) + `=">`
		}},
		{"base64-image", func() string { return "![chart](data:image/jpeg;base64,/9j/4AAQSkZJRg" + rnd(b64, 300) + ")" }},
	}
	for i := 0; i < 240; i++ {
		tp := templates[r.IntN(len(templates))]
		neg(tp.family, tp.make())
	}
	return rows, nil
}

func write(path string, rows []Row) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

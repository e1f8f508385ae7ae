package secrets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// credentialFiles is the family of the credential-file rules.
var credentialFamily = finding.Family{
	Name:        "credential-file",
	Layer:       finding.LayerInfrastructure,
	Remediation: "Remove the file from the repository (git rm --cached, and from history if it was committed), add it to .gitignore, and rotate what it holds.",
	References: finding.References{
		OWASP: []string{"LLM02:2025"},
		CWE:   []string{"CWE-538", "CWE-798"},
	},
}

// credKind is one kind of credential file. rule.Severity is the severity
// when git tracks the file; a file that is merely not ignored is reported
// one step lower.
type credKind struct {
	rule *finding.Rule
	// match reports whether a file with this base name and path (relative,
	// forward slashes) may be of the kind; content, when the kind needs
	// it, is checked by holds.
	match func(base, rel string) bool
	// holds, if set, must accept the file's first bytes.
	holds func(head []byte) bool
	// maxSize, if positive, is the largest file of the kind: it keeps the
	// content check off large files (every JSON file is a candidate).
	maxSize int64
}

var (
	reNpmToken  = regexp.MustCompile(`(?m)^\s*(?:[^#;\s][^=\n]*:)?_(?:authToken|auth|password)\s*=\s*[^\s$"'{]`)
	rePypiPass  = regexp.MustCompile(`(?mi)^\s*password\s*[=:]\s*[^\s$%{]`)
	reNetrcPass = regexp.MustCompile(`(?:^|\s)password\s+[^\s]`)
)

var credKinds = []credKind{
	{
		rule: credentialFamily.Rule("env", "Environment file (.env) in the repository", finding.High),
		match: func(base, _ string) bool {
			if base == ".env" {
				return true
			}
			if !strings.HasPrefix(base, ".env.") {
				return false
			}
			switch strings.ToLower(strings.TrimPrefix(base, ".env.")) {
			case "example", "sample", "template", "dist", "defaults", "schema":
				return false
			}
			return true
		},
	},
	{
		rule: credentialFamily.Rule("private-key", "Private key file in the repository", finding.Critical),
		match: func(base, _ string) bool {
			switch base {
			case "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk":
				return true
			}
			ext := strings.ToLower(path.Ext(base))
			return ext == ".pem" || ext == ".key"
		},
		holds: func(head []byte) bool {
			// A .pem or .key that is a certificate or a public key is no
			// secret; an unreadable (binary, DER) .key is treated as one.
			return bytes.Contains(head, []byte("PRIVATE KEY")) || bytes.IndexByte(head, 0) >= 0
		},
	},
	{
		rule: credentialFamily.Rule("pkcs12", "PKCS#12 key bundle (.p12, .pfx) in the repository", finding.Critical),
		match: func(base, _ string) bool {
			ext := strings.ToLower(path.Ext(base))
			return ext == ".p12" || ext == ".pfx"
		},
	},
	{
		rule: credentialFamily.Rule("cloud-credentials", "Cloud credentials file (credentials.json, service-account key, AWS credentials) in the repository", finding.Critical),
		match: func(base, rel string) bool {
			return base == "credentials.json" || strings.HasSuffix(strings.ToLower(base), ".json") ||
				(base == "credentials" && strings.HasSuffix(rel, ".aws/credentials"))
		},
		holds: func(head []byte) bool {
			return bytes.Contains(head, []byte(`"private_key"`)) && bytes.Contains(head, []byte(`"service_account"`)) ||
				bytes.Contains(head, []byte("aws_secret_access_key")) ||
				bytes.Contains(head, []byte(`"client_secret"`)) || bytes.Contains(head, []byte(`"refresh_token"`))
		},
		maxSize: 64 << 10,
	},
	{
		rule: credentialFamily.Rule("package-token", "Package-manager or netrc file holding a token or password", finding.High),
		match: func(base, _ string) bool {
			return base == ".npmrc" || base == ".pypirc" || base == ".netrc" || base == "_netrc"
		},
		holds: func(head []byte) bool {
			return reNpmToken.Match(head) || rePypiPass.Match(head) || reNetrcPass.Match(head)
		},
	},
}

// credHead is how much of a candidate file the content checks read.
const credHead = 64 << 10

// candidate is a file that is of a credential kind.
type candidate struct {
	rel  string
	kind *credKind
}

// credentialFiles reports the credential files among files that git
// tracks or that no ignore rule covers. Outside a git work tree it
// reports nothing: there is nothing to commit them to.
func credentialFiles(ctx context.Context, root string, files []file, git string) ([]finding.Finding, error) {
	var cands []candidate
	for _, f := range files {
		base := path.Base(f.rel)
		for i := range credKinds {
			k := &credKinds[i]
			if !k.match(base, f.rel) {
				continue
			}
			if k.maxSize > 0 && f.size > k.maxSize {
				continue
			}
			if k.holds != nil && !k.holds(readHead(f.abs)) {
				continue
			}
			cands = append(cands, candidate{rel: f.rel, kind: k})
			break
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	dir := root
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		dir = filepath.Dir(root)
	}
	if !inWorkTree(ctx, git, dir) {
		return nil, nil
	}
	tracked, err := gitTracked(ctx, git, dir)
	if err != nil {
		return nil, err
	}
	var untracked []string
	for _, c := range cands {
		if !tracked[c.rel] {
			untracked = append(untracked, c.rel)
		}
	}
	ignored, err := gitIgnored(ctx, git, dir, untracked)
	if err != nil {
		return nil, err
	}
	var out []finding.Finding
	for _, c := range cands {
		r := *c.kind.rule
		loc := finding.Location{Path: c.rel}
		var f finding.Finding
		switch {
		case tracked[c.rel]:
			f = finding.New(&r, loc, 1, "tracked by git")
			f.Message = fmt.Sprintf("%s is committed to the repository", c.rel)
		case !ignored[c.rel]:
			r.Severity = max(r.Severity-1, finding.Info)
			f = finding.New(&r, loc, 0.9, "not covered by .gitignore")
			f.Message = fmt.Sprintf("%s is not ignored by git and can be committed by mistake", c.rel)
		default:
			continue
		}
		f.Detector = Detector
		f.Fingerprint = finding.Fingerprint(r.ID, loc, "")
		out = append(out, f)
	}
	return out, nil
}

// readHead returns up to credHead leading bytes of the file at p, or nil.
func readHead(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, credHead))
	return b
}

func inWorkTree(ctx context.Context, git, dir string) bool {
	out, err := exec.CommandContext(ctx, git, "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

// gitTracked returns the paths, relative to dir, that git tracks.
func gitTracked(ctx context.Context, git, dir string) (map[string]bool, error) {
	cmd := exec.CommandContext(ctx, git, "-C", dir, "-c", "core.quotePath=false", "ls-files", "-z", "--cached")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	tracked := make(map[string]bool)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(splitNUL)
	for sc.Scan() {
		tracked[sc.Text()] = true
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git ls-files: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	if scanErr != nil {
		return nil, fmt.Errorf("git ls-files: %w", scanErr)
	}
	return tracked, nil
}

// gitIgnored returns which of paths (relative to dir) git ignores.
func gitIgnored(ctx context.Context, git, dir string, paths []string) (map[string]bool, error) {
	ignored := make(map[string]bool)
	if len(paths) == 0 {
		return ignored, nil
	}
	cmd := exec.CommandContext(ctx, git, "-C", dir, "check-ignore", "--stdin", "-z")
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\x00") + "\x00")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// Exit status 1 means none of the paths is ignored.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			return nil, fmt.Errorf("git check-ignore: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
	}
	for p := range strings.SplitSeq(string(out), "\x00") {
		if p != "" {
			ignored[p] = true
		}
	}
	return ignored, nil
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

package secrets

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	dsecrets "github.com/rampartsec/rampart/detect/secrets"
	"github.com/rampartsec/rampart/finding"
)

// commitMarker starts the header line ScanGit asks git log to print for
// every commit: the marker, then the hash, author name, author e-mail and
// author date (strict ISO 8601), separated by NUL bytes. No line of a patch
// can start with it (patch lines start with a diff header keyword, "@@",
// "+", "-", " " or "\").
const commitMarker = "\x1ecommit\x00"

// gitLogArgs are the arguments of the git log ScanGit streams: every
// commit reachable from any ref, with the added lines of each file it
// added, copied, modified, renamed or retyped (-M so a pure rename adds
// nothing), and no context lines. Deleted files need no diff: their lines
// were scanned in the commits that added them.
var gitLogArgs = []string{
	"-c", "core.quotePath=false", "-c", "diff.noprefix=false", "-c", "log.showSignature=false",
	"log", "-p", "--all", "--full-history", "--no-color", "--no-ext-diff", "--no-textconv",
	"--unified=0", "-M", "--diff-filter=ACMRT", "--format=" + "%x1ecommit%x00%H%x00%an%x00%ae%x00%aI",
}

// chunkSize is how many bytes of one file's added lines ScanGit collects
// before handing them to the detector.
const chunkSize = 1 << 20

// Commit is the commit a history finding was made in.
type Commit struct {
	Hash   string
	Author string // author name
	Email  string // author e-mail, as git recorded it
	Date   string // author date, ISO 8601
}

// chunk is added lines of one file in one commit: text holds the lines,
// each ended by '\n', and lines[i] is the line number of text's i-th line
// in the new version of the file.
type chunk struct {
	commit *Commit
	seq    int // the commit's position in the log, 0 for the first
	path   string
	text   []byte
	lines  []int
}

// logParser reads the output of git log -p --unified=0 with ScanGit's
// format and emits the added lines per commit and file.
type logParser struct {
	r        *bufio.Reader
	maxLine  int // longer lines are cut to this many bytes
	maxChunk int // a chunk is emitted once its text reaches this size
	emit     func(chunk) error

	commit  *Commit
	seq     int
	path    string
	inHunk  bool
	newLine int
	cur     chunk
	line    []byte // the line being read, when it exceeds the reader's buffer
	offset  int64  // of the line being parsed, for errors
}

func newLogParser(r io.Reader, maxLine, maxChunk int, emit func(chunk) error) *logParser {
	return &logParser{r: bufio.NewReaderSize(r, 64<<10), maxLine: maxLine, maxChunk: maxChunk, emit: emit, seq: -1}
}

// readLine returns the next line without its '\n', cut to maxLine bytes.
// The slice is valid until the next call.
func (p *logParser) readLine() ([]byte, error) {
	b, err := p.r.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(b) > 0) {
		p.offset += int64(len(b))
		return bytes.TrimSuffix(b, []byte{'\n'}), nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	p.line = append(p.line[:0], b[:min(p.maxLine, len(b))]...)
	n := int64(len(b))
	for {
		b, err = p.r.ReadSlice('\n')
		n += int64(len(b))
		if room := p.maxLine - len(p.line); room > 0 {
			p.line = append(p.line, b[:min(room, len(b))]...)
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	p.offset += n
	if err != nil && err != io.EOF {
		return nil, err
	}
	return bytes.TrimSuffix(p.line, []byte{'\n'}), nil
}

// run parses until the end of the input.
func (p *logParser) run() error {
	for {
		start := p.offset
		l, err := p.readLine()
		if err == io.EOF {
			return p.flush()
		}
		if err != nil {
			return fmt.Errorf("git log: read at byte %d: %w", start, err)
		}
		if err := p.parseLine(l, start); err != nil {
			return err
		}
	}
}

func (p *logParser) parseLine(l []byte, at int64) error {
	switch {
	case p.inHunk && len(l) > 0 && l[0] == '+':
		if p.path == "" || p.commit == nil {
			return nil
		}
		if len(p.cur.lines) == 0 {
			p.cur = chunk{commit: p.commit, seq: p.seq, path: p.path, text: p.cur.text[:0]}
		}
		p.cur.text = append(append(p.cur.text, l[1:]...), '\n')
		p.cur.lines = append(p.cur.lines, p.newLine)
		p.newLine++
		if len(p.cur.text) >= p.maxChunk {
			return p.flush()
		}
		return nil
	case p.inHunk && len(l) > 0 && (l[0] == '-' || l[0] == ' ' || l[0] == '\\'):
		return nil
	case bytes.HasPrefix(l, []byte(commitMarker)):
		if err := p.flush(); err != nil {
			return err
		}
		f := bytes.Split(l[len(commitMarker):], []byte{0})
		if len(f) != 4 {
			return fmt.Errorf("git log: byte %d: commit header with %d fields, want 4", at, len(f))
		}
		p.seq++
		p.commit = &Commit{Hash: string(f[0]), Author: string(f[1]), Email: string(f[2]), Date: string(f[3])}
		p.path, p.inHunk = "", false
	case bytes.HasPrefix(l, []byte("diff --git ")) || bytes.HasPrefix(l, []byte("diff --cc ")) || bytes.HasPrefix(l, []byte("diff --combined ")):
		if err := p.flush(); err != nil {
			return err
		}
		p.path, p.inHunk = "", false
	case !p.inHunk && bytes.HasPrefix(l, []byte("+++ ")):
		p.path = parseDiffPath(l[4:])
	case bytes.HasPrefix(l, []byte("@@")):
		n, ok := parseHunkNew(l)
		if !ok {
			return fmt.Errorf("git log: byte %d: malformed hunk header %q", at, truncate(l, 80))
		}
		p.newLine, p.inHunk = n, true
	}
	return nil
}

// flush emits the lines collected so far.
func (p *logParser) flush() error {
	if len(p.cur.lines) == 0 {
		return nil
	}
	c := p.cur
	p.cur = chunk{}
	return p.emit(c)
}

// parseDiffPath returns the path of a "+++ " line: "" for /dev/null,
// otherwise the path without its "b/" prefix, unquoted if git quoted it.
func parseDiffPath(s []byte) string {
	v := string(s)
	if i := strings.IndexByte(v, '\t'); i >= 0 && !strings.HasPrefix(v, `"`) {
		v = v[:i] // git appends a tab when the name ends in a space
	}
	if v == "/dev/null" {
		return ""
	}
	if strings.HasPrefix(v, `"`) {
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
	}
	return strings.TrimPrefix(v, "b/")
}

// parseHunkNew returns the first line of the new side of a hunk header
// "@@ -a[,b] +c[,d] @@"; for a hunk that adds nothing (d = 0) c is the
// line before, which does not matter as no '+' line follows.
func parseHunkNew(l []byte) (int, bool) {
	i := bytes.Index(l, []byte(" +"))
	if i < 0 {
		return 0, false
	}
	s := l[i+2:]
	j := 0
	for j < len(s) && j < 10 && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(s[:j]))
	if err != nil {
		return 0, false
	}
	return n, true
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// MaskEmail hides the local part of an e-mail address but its first
// letter: "alice@example.com" becomes "a…@example.com". Commit authors'
// addresses are personal data; the domain and the name suffice to find the
// person in most organisations.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		if email == "" {
			return ""
		}
		return "…"
	}
	_, size := utf8.DecodeRuneInString(email)
	return email[:size] + "…" + email[at:]
}

// ScanGit reports the secrets in every line any commit of the repository
// at repo added, on every ref, including files later deleted or renamed;
// it runs the system git and streams its output, holding at most a few
// chunks of at most about 1 MiB per worker. Each finding's location names
// the file (as of that commit), the line in that version of the file, the
// column and the commit; its message names the author (e-mail masked
// unless opts.ShowEmail) and date. Findings are ordered as git log lists
// the commits (newest first), then by path and line.
func ScanGit(ctx context.Context, repo string, opts Options) ([]finding.Finding, error) {
	det, err := opts.detector()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, opts.git(), append([]string{"-C", repo}, gitLogArgs...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}

	workers := opts.workers()
	chunks := make(chan chunk, 2*workers)
	type result struct {
		seq int
		fs  []finding.Finding
	}
	var (
		mu       sync.Mutex
		out      []result
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for range workers {
		wg.Go(func() {
			for c := range chunks {
				fs, err := scanChunk(ctx, det, c, opts.ShowEmail)
				if err != nil {
					fail(err)
					continue
				}
				if len(fs) > 0 {
					mu.Lock()
					out = append(out, result{c.seq, fs})
					mu.Unlock()
				}
			}
		})
	}
	maxLine := int(min(opts.maxFileSize(), 1<<30))
	p := newLogParser(stdout, maxLine, chunkSize, func(c chunk) error {
		// The parser reuses nothing of a chunk it emitted.
		select {
		case chunks <- c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	perr := p.run()
	close(chunks)
	wg.Wait()
	if perr != nil {
		cancel()
		_, _ = io.Copy(io.Discard, stdout)
	}
	werr := cmd.Wait()
	switch {
	case firstErr != nil:
		return nil, firstErr
	case perr != nil:
		return nil, perr
	case werr != nil:
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("git log in %s: %w: %s", repo, werr, bytes.TrimSpace(stderr.Bytes()))
	}

	// Chunks finish in any order: order by the commit's place in the log,
	// then by path and position.
	slices.SortFunc(out, func(a, b result) int { return a.seq - b.seq })
	type keyed struct {
		seq int
		f   finding.Finding
	}
	var all []keyed
	for _, r := range out {
		for _, f := range r.fs {
			all = append(all, keyed{r.seq, f})
		}
	}
	slices.SortStableFunc(all, func(a, b keyed) int {
		if a.seq != b.seq {
			return a.seq - b.seq
		}
		if c := strings.Compare(a.f.Location.Path, b.f.Location.Path); c != 0 {
			return c
		}
		if a.f.Location.Line != b.f.Location.Line {
			return a.f.Location.Line - b.f.Location.Line
		}
		return a.f.Location.Column - b.f.Location.Column
	})
	fs := make([]finding.Finding, len(all))
	for i := range all {
		fs[i] = all[i].f
	}
	return opts.Baseline.Filter(fs), nil
}

// scanChunk runs the detector on one chunk of added lines.
func scanChunk(ctx context.Context, det *dsecrets.Detector, c chunk, showEmail bool) ([]finding.Finding, error) {
	email := c.commit.Email
	if !showEmail {
		email = MaskEmail(email)
	}
	fs, err := scanText(ctx, det, string(c.text), func(line int) (finding.Location, bool) {
		if line < 1 || line > len(c.lines) {
			return finding.Location{}, false
		}
		return finding.Location{Path: c.path, Line: c.lines[line-1], Commit: c.commit.Hash}, true
	})
	if err != nil {
		return nil, err
	}
	for i := range fs {
		fs[i].Message = fmt.Sprintf("%s added to %s in commit %s by %s <%s> on %s",
			fs[i].Title, c.path, shortHash(c.commit.Hash), c.commit.Author, email, c.commit.Date)
	}
	return fs, nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

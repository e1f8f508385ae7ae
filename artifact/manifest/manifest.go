// Package manifest records the SHA-256 of every file of a model, the way the
// OpenSSF model signing specification serializes a model "by files": each
// regular file under the model folder becomes a resource named by its
// slash-separated path relative to the folder, and the resources are sorted
// by path components. A model that is a single file has one resource named
// ".".
//
// Build walks a folder and hashes its files in parallel with a bounded pool
// of workers, each streaming its file through SHA-256 with a large buffer, so
// memory stays constant whatever the size of the files. Diff compares a
// signed manifest with the one built from disk and names every added,
// removed and modified file.
package manifest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/rampartsec/rampart/internal/parallel"
)

// HashSHA256 is the only hash_type this package computes.
const HashSHA256 = "sha256"

// MethodFiles is the serialization method of one resource per file.
const MethodFiles = "files"

// DefaultIgnores are the paths that OpenSSF model signing leaves out of a
// model by default: what git keeps beside the files.
var DefaultIgnores = []string{".git", ".gitattributes", ".github", ".gitignore"}

// Item is one resource of a manifest: a file and its digest.
type Item struct {
	// Name is the path relative to the model root, slash-separated, or "."
	// when the model is a single file.
	Name string
	// Digest is the SHA-256 of the file's content.
	Digest [sha256.Size]byte
}

// Serialization describes how a manifest was made, so that a verifier can
// make the same one again. It mirrors the predicate's "serialization".
type Serialization struct {
	Method        string
	HashType      string
	AllowSymlinks bool
	// IgnorePaths are relative to the model root; a directory excludes
	// everything under it.
	IgnorePaths []string
}

// Manifest is the list of a model's files and their digests.
type Manifest struct {
	// ModelName is informative only: renaming a model folder does not
	// invalidate its signature.
	ModelName     string
	Items         []Item
	Serialization Serialization
}

// Options configure Build.
type Options struct {
	// IgnorePaths are left out of the manifest, relative to the model root
	// (slash- or OS-separated); a directory excludes everything under it.
	IgnorePaths []string
	// AllowSymlinks includes symbolic links to regular files, hashed by the
	// content they point to. Without it a symbolic link is an error.
	AllowSymlinks bool
	// Workers bounds the number of files hashed at once (default
	// runtime.NumCPU()).
	Workers int
	// BufferSize is the read buffer of each worker (default 1 MiB).
	BufferSize int
	// AllowEmpty returns an empty manifest instead of an error when no
	// file is left after the exclusions (a verifier then reports every
	// signed file as removed).
	AllowEmpty bool
}

// Build walks the model at root (a folder or a single file) and returns its
// manifest. It does not follow symbolic links to directories, refuses
// special files, and fails when no file is left after the exclusions.
func Build(ctx context.Context, root string, opts Options) (*Manifest, error) {
	ign, err := normalizeIgnores(opts.IgnorePaths)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("model path %s: %w", root, err)
	}
	m := &Manifest{
		ModelName: filepath.Base(abs),
		Serialization: Serialization{
			Method: MethodFiles, HashType: HashSHA256,
			AllowSymlinks: opts.AllowSymlinks, IgnorePaths: ign,
		},
	}
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("model path: %w", err)
	}
	var jobs []job
	if !fi.IsDir() {
		if err := checkFile(root, ".", fi, opts.AllowSymlinks); err != nil {
			return nil, err
		}
		jobs = append(jobs, job{name: ".", path: root})
	} else {
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if p == root {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			name := filepath.ToSlash(rel)
			if ignored(name, ign) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return fmt.Errorf("walk %s: %w", p, err)
			}
			if err := checkFile(p, name, fi, opts.AllowSymlinks); err != nil {
				return err
			}
			jobs = append(jobs, job{name: name, path: p})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(jobs) == 0 {
		if opts.AllowEmpty {
			return m, nil
		}
		return nil, fmt.Errorf("model %s contains no regular files after the exclusions", root)
	}
	m.Items, err = hashAll(ctx, jobs, opts)
	if err != nil {
		return nil, err
	}
	Sort(m.Items)
	return m, nil
}

// checkFile accepts regular files, and symbolic links to regular files when
// allowed.
func checkFile(p, name string, fi fs.FileInfo, allowSymlinks bool) error {
	mode := fi.Mode()
	if mode&fs.ModeSymlink != 0 {
		if !allowSymlinks {
			return fmt.Errorf("%s is a symbolic link; symbolic links are not allowed in a signed model (allow them explicitly to hash their targets)", name)
		}
		t, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("symbolic link %s: %w", name, err)
		}
		if !t.Mode().IsRegular() {
			return fmt.Errorf("symbolic link %s points to a %s, not a regular file", name, kind(t.Mode()))
		}
		return nil
	}
	if !mode.IsRegular() {
		return fmt.Errorf("%s is a %s, not a regular file", name, kind(mode))
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

type job struct {
	name, path string
}

// hashAll hashes the files with a bounded pool of workers and returns the
// items in the order of jobs.
func hashAll(ctx context.Context, jobs []job, opts Options) ([]Item, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, len(jobs))
	bufSize := opts.BufferSize
	if bufSize <= 0 {
		bufSize = 1 << 20
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make([]Item, len(jobs))
	bufs := make([][]byte, workers)
	var (
		errOnce  sync.Once
		firstErr error
	)
	parallel.Each(ctx, len(jobs), workers, func(w, i int) {
		if bufs[w] == nil {
			bufs[w] = make([]byte, bufSize)
		}
		d, err := HashFile(ctx, jobs[i].path, bufs[w])
		if err != nil {
			errOnce.Do(func() { firstErr = fmt.Errorf("hash %s: %w", jobs[i].name, err); cancel() })
			return
		}
		items[i] = Item{Name: jobs[i].name, Digest: d}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return items, nil
}

// HashFile streams the file at p through SHA-256 using buf as the read
// buffer (a nil buf gets 1 MiB). It checks ctx between reads.
func HashFile(ctx context.Context, p string, buf []byte) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if len(buf) == 0 {
		buf = make([]byte, 1<<20)
	}
	f, err := os.Open(p)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	// A plain read loop: io.CopyBuffer would hand the copy to
	// (*os.File).WriteTo, which ignores buf and reads 32 KiB at a time.
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, err
		}
	}
	h.Sum(sum[:0])
	return sum, nil
}

// normalizeIgnores cleans ignore paths into slash-separated paths relative
// to the model root and refuses those that leave it.
func normalizeIgnores(in []string) ([]string, error) {
	var out []string
	for _, p := range in {
		q := path.Clean(filepath.ToSlash(p))
		if q == "." || q == "" {
			continue
		}
		if path.IsAbs(q) || q == ".." || strings.HasPrefix(q, "../") {
			return nil, fmt.Errorf("ignore path %q is not relative to the model folder", p)
		}
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out, nil
}

// NormalizeIgnores cleans ignore paths the way Build does: slash-separated,
// relative to the model root, without duplicates.
func NormalizeIgnores(in []string) ([]string, error) { return normalizeIgnores(in) }

func ignored(name string, ign []string) bool {
	for _, p := range ign {
		if name == p || strings.HasPrefix(name, p+"/") {
			return true
		}
	}
	return false
}

// Less orders resource names by their path components, as the reference
// implementation sorts paths ("a/b" before "a-b").
func Less(a, b string) bool { return compareNames(a, b) < 0 }

func compareNames(a, b string) int {
	for {
		ha, ra, moreA := strings.Cut(a, "/")
		hb, rb, moreB := strings.Cut(b, "/")
		if c := strings.Compare(ha, hb); c != 0 {
			return c
		}
		switch {
		case !moreA && !moreB:
			return 0
		case !moreA:
			return -1
		case !moreB:
			return 1
		}
		a, b = ra, rb
	}
}

// Sort orders items by name in path-component order.
func Sort(items []Item) {
	slices.SortFunc(items, func(x, y Item) int { return compareNames(x.Name, y.Name) })
}

// RootDigest is the SHA-256 over the concatenated digests of items in their
// order: the subject digest of a model signature.
func RootDigest(items []Item) [sha256.Size]byte {
	h := sha256.New()
	for _, it := range items {
		h.Write(it.Digest[:])
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// ChangeKind says how a file differs from the signed manifest.
type ChangeKind int

// The kinds of change Diff reports.
const (
	Added ChangeKind = iota + 1
	Removed
	Modified
)

func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Modified:
		return "modified"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change is one difference between a signed manifest and the model on disk.
type Change struct {
	Kind ChangeKind
	Name string
	// Want is the signed digest (zero for Added), Got the digest on disk
	// (zero for Removed).
	Want, Got [sha256.Size]byte
}

func (c Change) String() string { return c.Kind.String() + ": " + c.Name }

// Diff compares the signed manifest want with got, built from disk, and
// returns every difference sorted by name; none means they match.
func Diff(want, got []Item) []Change {
	w := make(map[string][sha256.Size]byte, len(want))
	for _, it := range want {
		w[it.Name] = it.Digest
	}
	var out []Change
	seen := make(map[string]bool, len(got))
	for _, it := range got {
		seen[it.Name] = true
		d, ok := w[it.Name]
		switch {
		case !ok:
			out = append(out, Change{Kind: Added, Name: it.Name, Got: it.Digest})
		case d != it.Digest:
			out = append(out, Change{Kind: Modified, Name: it.Name, Want: d, Got: it.Digest})
		}
	}
	for _, it := range want {
		if !seen[it.Name] {
			seen[it.Name] = true
			out = append(out, Change{Kind: Removed, Name: it.Name, Want: it.Digest})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return compareNames(a.Name, b.Name) })
	return out
}

package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rampartsec/rampart/internal/ctxio"
)

// Limits on a model folder.
const (
	// MaxFiles bounds the files of a model folder.
	MaxFiles = 10000
	// MaxDepth bounds the nesting of its directories.
	MaxDepth = 32
	// MaxPath bounds a file's relative path, in bytes.
	MaxPath = 1024
)

// SignatureFile is the signature's file name in a model folder; it is not
// part of the digest (a signature cannot cover itself).
const SignatureFile = "model.sig"

// Manifest is the digest of a model folder and its files.
type Manifest struct {
	// Digest is "sha256:" and the hex SHA-256 of the canonical JSON of
	// Files (sorted by path).
	Digest string
	Files  []File
	// stat holds each file's size and modification time when hashed,
	// to notice files changed while a push scans and verifies them.
	stat map[string]fileStat
}

type fileStat struct {
	size int64
	mod  time.Time
}

// DigestDir hashes every regular file under dir except the top-level
// SignatureFile. Symbolic links, devices, pipes and sockets are refused
// (a model folder holds plain files), as are file names that are not
// UTF-8, more than MaxFiles files and directories nested deeper than
// MaxDepth. Reads go through an os.Root, so nothing outside dir is read.
func DigestDir(ctx context.Context, dir string) (*Manifest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("model folder: %w", err)
	}
	defer root.Close()
	paths, err := listFiles(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("model folder %s: %w", dir, err)
	}
	m := &Manifest{Files: make([]File, 0, len(paths)), stat: make(map[string]fileStat, len(paths))}
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		f, st, err := hashFile(ctx, root, p, buf)
		if err != nil {
			return nil, fmt.Errorf("model folder %s: %w", dir, err)
		}
		m.Files = append(m.Files, f)
		m.stat[p] = st
	}
	m.Digest = ManifestDigest(m.Files)
	return m, nil
}

// ManifestDigest returns the digest of a file list: the SHA-256 of the
// JSON array of the files, sorted by path.
func ManifestDigest(files []File) string {
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	if sorted == nil {
		sorted = []File{}
	}
	b, _ := json.Marshal(sorted) // a []File always encodes
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// listFiles walks root and returns the regular files' paths, sorted.
func listFiles(ctx context.Context, root *os.Root) ([]string, error) {
	var paths []string
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !utf8.ValidString(p) {
			return fmt.Errorf("%q: file names must be UTF-8", p)
		}
		if len(p) > MaxPath {
			return fmt.Errorf("%s…: path longer than %d bytes", p[:64], MaxPath)
		}
		if strings.Count(p, "/") > MaxDepth {
			return fmt.Errorf("%s: nested deeper than %d directories", p, MaxDepth)
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t.IsRegular():
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s: symbolic links are refused in a model folder", p)
		default:
			return fmt.Errorf("%s: not a regular file (%s)", p, t.Type())
		}
		if p == SignatureFile {
			return nil
		}
		if len(paths) == MaxFiles {
			return fmt.Errorf("more than %d files", MaxFiles)
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	return paths, nil
}

// hashFile hashes one regular file, refusing one that is no longer regular
// when opened (opened without blocking, so a pipe swapped in cannot hang
// the read).
func hashFile(ctx context.Context, root *os.Root, p string, buf []byte) (File, fileStat, error) {
	f, err := root.OpenFile(p, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return File{}, fileStat{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return File{}, fileStat{}, err
	}
	if !fi.Mode().IsRegular() {
		return File{}, fileStat{}, fmt.Errorf("%s: not a regular file", p)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxio.Reader(ctx, f), buf)
	if err != nil {
		return File{}, fileStat{}, fmt.Errorf("%s: %w", p, err)
	}
	if n != fi.Size() {
		return File{}, fileStat{}, fmt.Errorf("%s: changed while it was read (%d bytes read, %d stat)", p, n, fi.Size())
	}
	return File{Path: p, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))},
		fileStat{size: fi.Size(), mod: fi.ModTime()}, nil
}

// errChanged is the cause of a Refusal when files change during a push.
var errChanged = errors.New("files changed")

// Unchanged checks that dir still has exactly the files m hashed, with the
// same sizes and modification times (it does not hash them again).
func (m *Manifest) Unchanged(ctx context.Context, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("model folder: %w", err)
	}
	defer root.Close()
	paths, err := listFiles(ctx, root)
	if err != nil {
		return fmt.Errorf("model folder %s: %w", dir, err)
	}
	if len(paths) != len(m.stat) {
		return fmt.Errorf("model folder %s: %w: %d files now, %d hashed", dir, errChanged, len(paths), len(m.stat))
	}
	for _, p := range paths {
		fi, err := root.Lstat(p)
		if err != nil {
			return fmt.Errorf("model folder %s: %w", dir, err)
		}
		was, ok := m.stat[p]
		if !ok || was.size != fi.Size() || !was.mod.Equal(fi.ModTime()) {
			return fmt.Errorf("model folder %s: %w: %s", dir, errChanged, path.Clean(p))
		}
	}
	return nil
}

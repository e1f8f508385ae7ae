package osv

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Limits bound what an import reads. The zero value of a field means its
// default (see DefaultLimits).
type Limits struct {
	// MaxFiles is the most record files read (entries not ending in
	// .json, .yaml or .yml do not count).
	MaxFiles int
	// MaxFileSize is the largest single record file, uncompressed.
	MaxFileSize int64
	// MaxTotalSize is the most bytes read over all record files, uncompressed.
	MaxTotalSize int64
	// MaxRatio is the highest uncompressed/compressed ratio a zip entry
	// larger than 1 MiB may have.
	MaxRatio int64
}

// DefaultLimits fit the largest osv.dev export (all.zip, a few hundred
// thousand records, a few GiB uncompressed) with room to spare.
var DefaultLimits = Limits{
	MaxFiles:     2_000_000,
	MaxFileSize:  16 << 20,
	MaxTotalSize: 16 << 30,
	MaxRatio:     200,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxFiles > 0 {
		d.MaxFiles = l.MaxFiles
	}
	if l.MaxFileSize > 0 {
		d.MaxFileSize = l.MaxFileSize
	}
	if l.MaxTotalSize > 0 {
		d.MaxTotalSize = l.MaxTotalSize
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	return d
}

// ErrLimit is wrapped by the errors of a source that exceeds Limits.
var ErrLimit = errors.New("OSV source exceeds a limit")

func isRecordName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".json", ".yaml", ".yml":
		return true
	}
	return false
}

// walk calls fn with the name and content of every record file in src: a
// zip archive, a directory (walked without following symbolic links), or a
// single .json/.yaml file.
func walk(ctx context.Context, src string, lim Limits, fn func(name string, data []byte) error) error {
	lim = lim.withDefaults()
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("OSV source: %w", err)
	}
	b := &budget{lim: lim}
	switch {
	case st.IsDir():
		return walkDir(ctx, src, b, fn)
	case strings.EqualFold(filepath.Ext(src), ".zip"):
		return walkZip(ctx, src, b, fn)
	case isRecordName(src):
		data, err := b.readFile(src)
		if err != nil {
			return err
		}
		return fn(filepath.Base(src), data)
	default:
		return fmt.Errorf("OSV source %s: want a directory, a .zip, or a .json/.yaml file", src)
	}
}

type budget struct {
	lim   Limits
	files int
	total int64
}

func (b *budget) take(name string, size int64) error {
	b.files++
	if b.files > b.lim.MaxFiles {
		return fmt.Errorf("%w: more than %d record files", ErrLimit, b.lim.MaxFiles)
	}
	if size > b.lim.MaxFileSize {
		return fmt.Errorf("%w: %s is %d bytes, more than %d", ErrLimit, name, size, b.lim.MaxFileSize)
	}
	b.total += size
	if b.total > b.lim.MaxTotalSize {
		return fmt.Errorf("%w: more than %d bytes of records", ErrLimit, b.lim.MaxTotalSize)
	}
	return nil
}

// read reads at most MaxFileSize+1 bytes of r and charges the budget with
// what it actually read, whatever a header declared.
func (b *budget) read(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, b.lim.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if err := b.take(name, int64(len(data))); err != nil {
		return nil, err
	}
	return data, nil
}

func (b *budget) readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("OSV source: %w", err)
	}
	defer f.Close()
	return b.read(p, f)
}

func walkDir(ctx context.Context, root string, b *budget, fn func(string, []byte) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("OSV source: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and friends
			}
			return nil
		}
		if !d.Type().IsRegular() || !isRecordName(p) {
			return nil
		}
		data, err := b.readFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		return fn(filepath.ToSlash(rel), data)
	})
}

func walkZip(ctx context.Context, p string, b *budget, fn func(string, []byte) error) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("OSV source %s: %w", p, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if f.FileInfo().IsDir() || !isRecordName(f.Name) {
			continue
		}
		// Refuse by the declared sizes first; the read below enforces the
		// real ones.
		if f.UncompressedSize64 > uint64(b.lim.MaxFileSize) {
			return fmt.Errorf("%w: zip entry %s declares %d bytes, more than %d", ErrLimit, f.Name, f.UncompressedSize64, b.lim.MaxFileSize)
		}
		if f.UncompressedSize64 > 1<<20 && f.UncompressedSize64/max(f.CompressedSize64, 1) > uint64(b.lim.MaxRatio) {
			return fmt.Errorf("%w: zip entry %s compresses %d:1, more than %d:1", ErrLimit, f.Name, f.UncompressedSize64/max(f.CompressedSize64, 1), b.lim.MaxRatio)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("zip entry %s: %w", f.Name, err)
		}
		data, err := b.read(f.Name, rc)
		rc.Close()
		if err != nil {
			return err
		}
		if len(data) > 1<<20 && int64(len(data))/max(int64(f.CompressedSize64), 1) > b.lim.MaxRatio {
			return fmt.Errorf("%w: zip entry %s compresses more than %d:1", ErrLimit, f.Name, b.lim.MaxRatio)
		}
		if err := fn(f.Name, data); err != nil {
			return err
		}
	}
	return nil
}

// MaxYAMLSize bounds one YAML record. The YAML parser is far slower than
// encoding/json (seconds per MiB); real OSV YAML records (the PyPA
// advisory database) are a few KiB.
const MaxYAMLSize = 256 << 10

// maxYAMLDepth bounds flow-collection nesting and indentation in YAML
// records; real OSV YAML nests a handful of levels.
const maxYAMLDepth = 64

// ParseRecords decodes the OSV records in one file: a JSON object or array
// of objects, or (when name ends in .yaml or .yml) a YAML document. Each
// record is validated. YAML anchors and aliases are refused, so an
// "alias bomb" cannot expand.
func ParseRecords(name string, data []byte) ([]*Vulnerability, error) {
	ext := strings.ToLower(path.Ext(name))
	if ext == ".yaml" || ext == ".yml" {
		if len(data) > MaxYAMLSize {
			return nil, fmt.Errorf("%s: YAML record of %d bytes, more than %d", name, len(data), MaxYAMLSize)
		}
		j, err := yamlToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		data = j
	}
	data = bytes.TrimSpace(data)
	var recs []*Vulnerability
	if len(data) > 0 && data[0] == '[' {
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, fmt.Errorf("%s: %w", name, jsonErr(err))
		}
	} else {
		var v Vulnerability
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", name, jsonErr(err))
		}
		recs = []*Vulnerability{&v}
	}
	for i, r := range recs {
		if r == nil {
			return nil, fmt.Errorf("%s: record %d is null", name, i)
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return recs, nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON syntax error at byte offset %d: %w", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("JSON field %q has the wrong type at byte offset %d: %w", te.Field, te.Offset, err)
	}
	return err
}

func yamlToJSON(data []byte) ([]byte, error) {
	if err := yamlShallow(data); err != nil {
		return nil, err
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	var bad error
	for _, doc := range f.Docs {
		ast.Walk(visitFunc(func(n ast.Node) bool {
			switch n.(type) {
			case *ast.AliasNode, *ast.AnchorNode, *ast.MergeKeyNode:
				if bad == nil {
					bad = fmt.Errorf("YAML anchors, aliases and merge keys are not allowed in OSV records (at %s)", n.GetToken().Position)
				}
				return false
			}
			return true
		}), doc)
	}
	if bad != nil {
		return nil, bad
	}
	if len(f.Docs) != 1 {
		return nil, fmt.Errorf("YAML: want one document, got %d", len(f.Docs))
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	return j, nil
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil || !f(n) {
		return nil
	}
	return f
}

// yamlShallow refuses deeply nested YAML before the recursive parser sees
// it: flow brackets nested more than maxYAMLDepth deep, or lines indented
// more than 4*maxYAMLDepth columns. Quoted scalars are skipped (a quote
// opens a scalar only where a token starts, as in YAML), so brackets
// inside them neither count nor hide real nesting.
func yamlShallow(data []byte) error {
	depth, col, lineStart := 0, 0, true
	var quote, prev byte = 0, '\n'
	for i := 0; i < len(data); i++ {
		c := data[i]
		if quote != 0 {
			switch {
			case quote == '"' && c == '\\':
				i++
			case c == quote:
				quote = 0
			}
			prev = c
			continue
		}
		if c == '\n' {
			lineStart, col, prev = true, 0, c
			continue
		}
		if lineStart && (c == ' ' || c == '-') {
			col++
			if col > 4*maxYAMLDepth {
				return fmt.Errorf("YAML indented deeper than %d columns at byte offset %d", 4*maxYAMLDepth, i)
			}
			prev = c
			continue
		}
		lineStart = false
		switch c {
		case '#':
			if strings.IndexByte(" \t\n", prev) >= 0 {
				for i+1 < len(data) && data[i+1] != '\n' {
					i++
				}
			}
		case '"', '\'':
			if strings.IndexByte(" \t\n[{,:-?", prev) >= 0 {
				quote = c
			}
		case '[', '{':
			depth++
			if depth > maxYAMLDepth {
				return fmt.Errorf("YAML nested deeper than %d at byte offset %d", maxYAMLDepth, i)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
		prev = c
	}
	return nil
}

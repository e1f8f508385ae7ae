package sbom

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/rampartsec/rampart/internal/ctxio"
	"github.com/rampartsec/rampart/internal/smallfile"
)

// datasets describes every data manifest the walk found as a data
// component whose sub-components are the data files it names.
func (g *generator) datasets() []cdx.Component {
	var comps []cdx.Component
	for _, m := range g.manifests {
		if g.ctx.Err() != nil {
			return nil
		}
		kind := manifestKindOf(filepath.Base(m))
		data, err := smallfile.Read(m, maxManifestSize)
		if err != nil {
			g.warn(m, "data manifest not read: %v", err)
			continue
		}
		d, err := parseManifest(kind, data)
		if errors.Is(err, errNotManifest) {
			continue
		}
		if err != nil {
			g.warn(m, "malformed %s: %v", kind, err)
			continue
		}
		comps = append(comps, g.datasetComponent(m, kind, d))
	}
	sortComponents(comps)
	return comps
}

// datasetComponent renders the dataset d, described by the manifest at m.
func (g *generator) datasetComponent(m, kind string, d *dataset) cdx.Component {
	rel := g.rel(m)
	dir := filepath.Dir(m)
	name := d.name
	if name == "" {
		name = filepath.Base(dir)
		if g.isDir && dir == filepath.Clean(g.root) {
			if abs, err := filepath.Abs(dir); err == nil {
				name = filepath.Base(abs)
			}
		}
	}
	ref := "data:" + rel
	c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeData, Name: name, Description: d.description}
	c.Data = &[]cdx.ComponentData{{Type: cdx.ComponentDataTypeDataset, Name: name}}
	if len(d.licenses) > 0 {
		ls := make(cdx.Licenses, len(d.licenses))
		for i, l := range d.licenses {
			ls[i] = licenseChoice(l)
		}
		c.Licenses = &ls
	}
	if d.homepage != "" {
		c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: d.homepage}}
	}
	props := []cdx.Property{property(PropDataManifest, rel), property(PropDataFormat, kind)}
	for _, w := range d.warnings {
		props = append(props, property(PropWarning, w))
	}

	var files []cdx.Component
	seen := map[string]bool{}
	add := func(f cdx.Component) bool {
		if seen[f.Name] {
			return true
		}
		if len(files) >= g.opts.MaxDataFiles {
			props = append(props, property(PropWarning, fmt.Sprintf("more than %d data files; the rest are left out", g.opts.MaxDataFiles)))
			return false
		}
		seen[f.Name] = true
		f.BOMRef = ref + "#" + f.Name
		files = append(files, f)
		return true
	}
files:
	for _, f := range d.files {
		if g.ctx.Err() != nil {
			break
		}
		switch {
		case f.path == "":
		case isRemote(f.path):
			if !add(declared(clip(f.path, maxText), f)) {
				break files
			}
		case f.glob && strings.ContainsAny(f.path, "*?["):
			matches := g.glob(dir, f.path)
			if len(matches) == 0 {
				// Named but not here (not downloaded, or in Git LFS).
				if !add(declared(clip(f.path, maxText), f)) {
					break files
				}
			}
			for _, p := range matches {
				if !add(g.dataFile(p, f)) {
					break files
				}
			}
		default:
			p, ok := localPath(dir, f.path)
			if !ok {
				props = append(props, property(PropWarning, "data file outside the manifest's folder not followed: "+clip(f.path, 200)))
				continue
			}
			if !g.inside(p) {
				props = append(props, property(PropWarning, "data file reached through a link that leaves the scanned folder not followed: "+clip(f.path, 200)))
				continue
			}
			if st, err := os.Lstat(p); err != nil || !st.Mode().IsRegular() {
				if !add(declared(g.rel(p), f)) {
					break files
				}
				continue
			}
			if !add(g.dataFile(p, f)) {
				break files
			}
		}
	}
	if len(files) > 0 {
		sortComponents(files)
		c.Components = &files
	}
	c.Properties = &props
	return c
}

// declared is a data file the manifest names that is not on disk: it
// keeps the digests the manifest records.
func declared(name string, f declaredFile) cdx.Component {
	c := cdx.Component{Type: cdx.ComponentTypeFile, Name: name}
	var hs []cdx.Hash
	if f.sha256 != "" {
		hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: f.sha256})
	}
	if f.md5 != "" {
		hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgoMD5, Value: f.md5})
	}
	if len(hs) > 0 {
		c.Hashes = &hs
	}
	c.Properties = &[]cdx.Property{property(PropDataLocal, "false")}
	return c
}

// dataFile hashes a local data file and compares it with the digests the
// manifest records.
func (g *generator) dataFile(p string, f declaredFile) cdx.Component {
	c := cdx.Component{Type: cdx.ComponentTypeFile, Name: g.rel(p)}
	props := []cdx.Property{property(PropDataLocal, "true")}
	s256, m5, size, err := hashData(g, p, f.md5 != "")
	if err != nil {
		props = append(props, property(PropWarning, "not hashed: "+err.Error()))
		c.Properties = &props
		return c
	}
	hs := []cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: s256}}
	if m5 != "" {
		hs = append(hs, cdx.Hash{Algorithm: cdx.HashAlgoMD5, Value: m5})
	}
	c.Hashes = &hs
	props = append(props, property(PropDataSize, strconv.FormatInt(size, 10)))
	if f.sha256 != "" && f.sha256 != s256 {
		props = append(props, property(PropWarning, "SHA-256 differs from the manifest's "+f.sha256))
	}
	if f.md5 != "" && f.md5 != m5 {
		props = append(props, property(PropWarning, "MD5 differs from the manifest's "+f.md5))
	}
	c.Properties = &props
	return c
}

// hashData streams a file through SHA-256 and, when asked, MD5.
func hashData(g *generator, p string, withMD5 bool) (s256, m5 string, size int64, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	var hm hash.Hash
	w := io.Writer(h)
	if withMD5 {
		hm = md5.New()
		w = io.MultiWriter(h, hm)
	}
	n, err := io.CopyBuffer(w, ctxio.Reader(g.ctx, f), make([]byte, 1<<20))
	if err != nil {
		return "", "", 0, fmt.Errorf("hash %s: %w", g.rel(p), err)
	}
	if hm != nil {
		m5 = hex.EncodeToString(hm.Sum(nil))
	}
	return hex.EncodeToString(h.Sum(nil)), m5, n, nil
}

// glob lists the regular files under dir that pattern (relative to dir,
// slash-separated) matches, within the data-file limit. A pattern that
// leaves dir matches nothing. Each segment matches as path.Match does,
// and a "**" segment matches zero or more folders, as the Hugging Face
// loaders' data_files patterns do ("data/**/*.parquet").
func (g *generator) glob(dir, pattern string) []string {
	if _, ok := localPath(dir, pattern); !ok {
		return nil
	}
	pattern = strings.TrimPrefix(path.Clean(pattern), "./")
	if !strings.Contains(pattern, "**") {
		matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		if err != nil {
			return nil
		}
		var out []string
		for _, m := range matches {
			if g.regularInside(m) {
				out = append(out, m)
				if len(out) >= g.opts.MaxDataFiles {
					break
				}
			}
		}
		return out
	}
	segs := strings.Split(pattern, "/")
	// Walk from the longest prefix without wildcards.
	fixed := 0
	for fixed < len(segs) && !strings.ContainsAny(segs[fixed], `*?[\`) {
		fixed++
	}
	start := filepath.Join(append([]string{dir}, segs[:fixed]...)...)
	var out []string
	visited := 0
	_ = filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder matches nothing
		}
		if visited++; visited > maxGlobVisits || g.ctx.Err() != nil {
			return filepath.SkipAll
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != start {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(start, p)
		if err != nil {
			return nil
		}
		if matchSegments(segs[fixed:], strings.Split(filepath.ToSlash(rel), "/")) && g.regularInside(p) {
			out = append(out, p)
			if len(out) >= g.opts.MaxDataFiles {
				return filepath.SkipAll
			}
		}
		return nil
	})
	return out
}

// maxGlobVisits bounds the folder entries one "**" pattern walks.
const maxGlobVisits = 200_000

// matchSegments matches a path's segments against a pattern's, where a
// "**" segment matches zero or more path segments. Runs of "**" are one,
// and the backtracking is bounded by segments × segments.
func matchSegments(pat, name []string) bool {
	// match[i][j]: pat[i:] matches name[j:]; filled from the end.
	next := make([]bool, len(name)+1)
	cur := make([]bool, len(name)+1)
	next[len(name)] = true // empty pattern matches empty name
	for i := len(pat) - 1; i >= 0; i-- {
		for j := len(name); j >= 0; j-- {
			switch {
			case pat[i] == "**":
				// zero segments, or one more segment and still "**".
				cur[j] = next[j] || (j < len(name) && cur[j+1])
			case j == len(name):
				cur[j] = false
			default:
				ok, _ := path.Match(pat[i], name[j])
				cur[j] = ok && next[j+1]
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// regularInside reports a regular file (not a link) inside the scanned folder.
func (g *generator) regularInside(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.Mode().IsRegular() && g.inside(p)
}

// inside reports whether p, with every symbolic link on its way resolved,
// lies within the scanned folder: a manifest must not make the BOM hash
// files elsewhere through a linked folder. A path that does not exist is
// inside when its parent is.
func (g *generator) inside(p string) bool {
	if g.rootReal == "" {
		r, err := filepath.EvalSymlinks(g.root)
		if err != nil {
			return false
		}
		if g.rootReal, err = filepath.Abs(r); err != nil {
			return false
		}
	}
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return false
		}
		if parent := filepath.Dir(p); parent != p {
			return g.inside(parent)
		}
		return false
	}
	if r, err = filepath.Abs(r); err != nil {
		return false
	}
	rel, err := filepath.Rel(g.rootReal, r)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

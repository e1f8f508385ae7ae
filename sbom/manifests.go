package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rampartsec/rampart/internal/yamltree"
)

// Data manifest formats (property PropDataFormat).
const (
	KindDatasetCard = "huggingface-dataset-card"
	KindDataPackage = "frictionless-datapackage"
	KindCroissant   = "mlcommons-croissant"
)

// Limits on data manifests.
const (
	// maxManifestSize bounds the bytes read from one manifest.
	maxManifestSize = 4 << 20
	// maxFrontMatter bounds the YAML front matter of a dataset card.
	maxFrontMatter = 256 << 10
	// maxYAMLNodes bounds the nodes of the front matter kept.
	maxYAMLNodes = 100_000
	// maxYAMLDepth bounds the nesting of the front matter walked.
	maxYAMLDepth = 64
	// maxDeclared bounds the data files one manifest may name.
	maxDeclared = 100_000
	// maxText bounds names, descriptions and licences taken from a
	// manifest.
	maxText = 2000
	// maxLicenses bounds the licences taken from a manifest.
	maxLicenses = 20
	// maxDatasetWarnings bounds the warnings about one manifest.
	maxDatasetWarnings = 100
)

// dataset is what a data manifest says, before files are looked up.
type dataset struct {
	name, description string
	licenses          []string
	homepage          string
	files             []declaredFile
	filesCut          bool // more than maxDeclared files named
	warnings          []string
}

// declaredFile is a data file a manifest names: a path relative to the
// manifest (possibly a glob pattern) or a URL, with the digests the
// manifest records for it.
type declaredFile struct {
	path   string
	glob   bool
	sha256 string // hex, from the manifest
	md5    string // hex, from the manifest
}

// warn records a warning about the manifest, within maxDatasetWarnings.
func (d *dataset) warn(msg string) {
	switch {
	case len(d.warnings) < maxDatasetWarnings:
		d.warnings = append(d.warnings, msg)
	case len(d.warnings) == maxDatasetWarnings:
		d.warnings = append(d.warnings, "more warnings left out")
	}
}

// addFile records a data file the manifest names, within maxDeclared.
func (d *dataset) addFile(f declaredFile) {
	if strings.TrimSpace(f.path) == "" {
		return
	}
	if len(d.files) >= maxDeclared {
		if !d.filesCut {
			d.filesCut = true
			d.warn(fmt.Sprintf("more than %d data files named; the rest are left out", maxDeclared))
		}
		return
	}
	d.files = append(d.files, f)
}

// manifestKindOf names the data manifest format a file name suggests; the
// content decides (parseManifest).
func manifestKindOf(name string) string {
	lower := strings.ToLower(name)
	switch {
	case lower == "readme.md":
		return KindDatasetCard
	case lower == "datapackage.json":
		return KindDataPackage
	case strings.HasSuffix(lower, ".jsonld"),
		strings.HasSuffix(lower, ".json") && (strings.Contains(lower, "croissant") || lower == "metadata.json"):
		return KindCroissant
	}
	return ""
}

// errNotManifest is returned for a file that is not a data manifest of the
// kind its name suggests (a README that is not a dataset card).
var errNotManifest = errors.New("not a data manifest")

// parseManifest parses data as a manifest of the given kind.
func parseManifest(kind string, data []byte) (*dataset, error) {
	switch kind {
	case KindDatasetCard:
		return parseDatasetCard(data)
	case KindDataPackage:
		return parseDataPackage(data)
	case KindCroissant:
		return parseCroissant(data)
	}
	return nil, errNotManifest
}

// ---- Hugging Face dataset cards ----

// frontMatter returns the YAML between a leading "---" line and the next
// "---" line, and the rest of the document.
func frontMatter(data []byte) (yml, body []byte, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	first, rest, found := bytes.Cut(data, []byte("\n"))
	if !found || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, nil, false
	}
	off := 0
	for off < len(rest) {
		line, _, _ := bytes.Cut(rest[off:], []byte("\n"))
		next := off + len(line) + 1
		if t := bytes.TrimRight(line, " \t\r"); string(t) == "---" || string(t) == "..." {
			return rest[:off], rest[min(next, len(rest)):], true
		}
		off = next
	}
	return nil, nil, false
}

// parseDatasetCard reads the front matter of a Hugging Face dataset card
// (README.md). A card is a dataset card when its metadata has dataset_info,
// configs, size_categories or task_categories; a licence alone is not
// enough, since model cards carry one too.
func parseDatasetCard(data []byte) (*dataset, error) {
	yml, body, ok := frontMatter(data)
	if !ok {
		return nil, errNotManifest
	}
	if len(yml) > maxFrontMatter {
		return nil, fmt.Errorf("front matter of %d bytes exceeds %d", len(yml), maxFrontMatter)
	}
	root, err := parseYAML(yml)
	if err != nil {
		if !bytes.Contains(yml, []byte("dataset_info")) && !bytes.Contains(yml, []byte("configs")) {
			// Front matter of some other README (a model card, a site
			// generator's page) is not this package's business.
			return nil, errNotManifest
		}
		return nil, fmt.Errorf("front matter: %w", err)
	}
	if !root.IsMap {
		return nil, errNotManifest
	}
	if root.Get("dataset_info") == nil && root.Get("configs") == nil &&
		root.Get("size_categories") == nil && root.Get("task_categories") == nil {
		return nil, errNotManifest
	}
	d := &dataset{name: clip(root.Get("pretty_name").Str(), maxText)}
	for _, l := range root.Get("license").Strs() {
		if len(d.licenses) == maxLicenses {
			break
		}
		d.licenses = append(d.licenses, clip(l, maxText))
	}
	d.description = clip(firstParagraph(body), maxText)
	for _, cfg := range root.Get("configs").Elems() {
		df := cfg.Get("data_files")
		switch {
		case df == nil:
		case df.IsSeq:
			for _, e := range df.Vals {
				if e.IsMap {
					for _, p := range e.Get("path").Strs() {
						d.addFile(declaredFile{path: p, glob: true})
					}
				} else {
					d.addFile(declaredFile{path: e.Scalar, glob: true})
				}
			}
		case df.IsMap:
			// {split: path or [paths]}
			for _, v := range df.Vals {
				for _, p := range v.Strs() {
					d.addFile(declaredFile{path: p, glob: true})
				}
			}
		default:
			d.addFile(declaredFile{path: df.Scalar, glob: true})
		}
	}
	return d, nil
}

// firstParagraph returns the first paragraph of markdown text that is not
// a heading, a comment or markup.
func firstParagraph(body []byte) string {
	var para []string
	for line := range strings.SplitSeq(string(body[:min(len(body), 64<<10)]), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			if len(para) > 0 {
				return strings.Join(para, " ")
			}
		case strings.HasPrefix(t, "#"), strings.HasPrefix(t, "<"), strings.HasPrefix(t, "!["),
			strings.HasPrefix(t, "|"), strings.HasPrefix(t, "```"), strings.HasPrefix(t, "- ["):
			if len(para) > 0 {
				return strings.Join(para, " ")
			}
		default:
			para = append(para, t)
		}
	}
	return strings.Join(para, " ")
}

// ---- Frictionless data packages ----

// parseDataPackage reads a Frictionless Data Package descriptor
// (datapackage.json, v1 or v2).
func parseDataPackage(data []byte) (*dataset, error) {
	var dp struct {
		Name        string          `json:"name"`
		Title       string          `json:"title"`
		Description string          `json:"description"`
		Homepage    string          `json:"homepage"`
		Licenses    json.RawMessage `json:"licenses"`
		Resources   []struct {
			Name string          `json:"name"`
			Path json.RawMessage `json:"path"`
			Hash string          `json:"hash"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &dp); err != nil {
		return nil, jsonError(data, err)
	}
	if dp.Resources == nil && dp.Name == "" && dp.Title == "" {
		return nil, errNotManifest
	}
	d := &dataset{name: clip(firstNonEmpty(dp.Title, dp.Name), maxText), description: clip(dp.Description, maxText), homepage: webURL(dp.Homepage)}
	d.licenses = licenseNames(dp.Licenses)
	for _, r := range dp.Resources {
		var paths []string
		if len(r.Path) > 0 {
			var one string
			if json.Unmarshal(r.Path, &one) == nil {
				paths = []string{one}
			} else if json.Unmarshal(r.Path, &paths) != nil {
				d.warn(fmt.Sprintf("resource %q: path is neither a string nor a list of strings", clip(r.Name, 100)))
				continue
			}
		}
		f := declaredFile{}
		// v1: "md5hex" or "algo:hex"; v2 the same with sha256 and md5.
		algo, hexd, ok := strings.Cut(r.Hash, ":")
		if !ok {
			algo, hexd = "md5", r.Hash
		}
		switch strings.ToLower(algo) {
		case "md5":
			f.md5 = checkHex(hexd, 16)
		case "sha256":
			f.sha256 = checkHex(hexd, 32)
		}
		for _, p := range paths {
			f.path = p
			d.addFile(f)
		}
	}
	return d, nil
}

// ---- MLCommons Croissant ----

// parseCroissant reads an MLCommons Croissant JSON-LD description: a
// schema.org Dataset whose distribution lists FileObjects (with contentUrl
// and sha256 or md5) and FileSets (with an includes glob).
func parseCroissant(data []byte) (*dataset, error) {
	var c struct {
		Context      json.RawMessage `json:"@context"`
		Type         json.RawMessage `json:"@type"`
		Name         string          `json:"name"`
		Description  string          `json:"description"`
		URL          string          `json:"url"`
		License      json.RawMessage `json:"license"`
		Distribution []struct {
			Type       json.RawMessage `json:"@type"`
			Name       string          `json:"name"`
			ContentURL string          `json:"contentUrl"`
			SHA256     string          `json:"sha256"`
			MD5        string          `json:"md5"`
			Includes   json.RawMessage `json:"includes"`
		} `json:"distribution"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		if !bytes.Contains(data, []byte("croissant")) && !bytes.Contains(data, []byte("Dataset")) {
			return nil, errNotManifest // some other metadata.json
		}
		return nil, jsonError(data, err)
	}
	if len(c.Context) == 0 || !slicesAny(jsonStrings(c.Type), isDatasetType) {
		return nil, errNotManifest
	}
	d := &dataset{name: clip(c.Name, maxText), description: clip(c.Description, maxText), homepage: webURL(c.URL)}
	d.licenses = licenseNames(c.License)
	for _, o := range c.Distribution {
		types := jsonStrings(o.Type)
		switch {
		case slicesAny(types, func(t string) bool { return strings.HasSuffix(t, "FileSet") }):
			for _, inc := range jsonStrings(o.Includes) {
				d.addFile(declaredFile{path: inc, glob: true})
			}
		case o.ContentURL != "":
			d.addFile(declaredFile{path: o.ContentURL, sha256: checkHex(o.SHA256, 32), md5: checkHex(o.MD5, 16)})
		}
	}
	return d, nil
}

// isDatasetType reports schema.org's Dataset under the prefixes JSON-LD
// documents use.
func isDatasetType(t string) bool {
	switch t {
	case "sc:Dataset", "schema:Dataset", "Dataset", "https://schema.org/Dataset", "http://schema.org/Dataset":
		return true
	}
	return false
}

// ---- helpers ----

// jsonStrings reads a JSON string or array of strings; anything else
// gives nothing.
func jsonStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// licenseNames reads a licence given as a string, an object with a name,
// title, path, @id or url, or a list of those.
func licenseNames(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	type lic struct {
		Name  string `json:"name"`
		Title string `json:"title"`
		Path  string `json:"path"`
		ID    string `json:"@id"`
		URL   string `json:"url"`
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		items = []json.RawMessage{raw}
	}
	var out []string
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, clip(s, maxText))
			}
			continue
		}
		var l lic
		if json.Unmarshal(it, &l) == nil {
			if s := strings.TrimSpace(firstNonEmpty(l.Name, l.Title, l.ID, l.URL, l.Path)); s != "" {
				out = append(out, clip(s, maxText))
			}
		}
		if len(out) >= maxLicenses {
			break
		}
	}
	return out
}

// jsonError names the byte offset of a JSON syntax error.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON syntax error at byte offset %d: %w", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("JSON field %q at byte offset %d has the wrong type: %w", te.Field, te.Offset, err)
	}
	return fmt.Errorf("JSON: %w", err)
}

// checkHex returns s in lower case when it is the hex form of n bytes, and
// "" otherwise.
func checkHex(s string, n int) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 2*n {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	return s
}

// webURL returns s when it is an http(s) URL without spaces, else "".
func webURL(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxText || strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}") ||
		!(strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) {
		return ""
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func slicesAny(ss []string, f func(string) bool) bool {
	for _, s := range ss {
		if f(s) {
			return true
		}
	}
	return false
}

// isRemote reports a declared path that is a URL rather than a local file.
func isRemote(p string) bool {
	i := strings.Index(p, "://")
	return i > 0 && !strings.ContainsAny(p[:i], "/\\.") || strings.HasPrefix(p, "hf://")
}

// localPath resolves a declared path against the manifest's folder, or
// reports that it leaves it: absolute paths and ".." are not followed.
func localPath(dir, p string) (string, bool) {
	p = strings.TrimPrefix(filepath.FromSlash(p), "."+string(filepath.Separator))
	if p == "" || !filepath.IsLocal(p) {
		return "", false
	}
	return filepath.Join(dir, p), true
}

// ---- bounded YAML ----

// parseYAML parses front matter; an empty document is an empty value.
func parseYAML(data []byte) (*yamltree.Node, error) {
	n, err := yamltree.Parse(data, yamltree.Limits{MaxDepth: maxYAMLDepth, MaxNodes: maxYAMLNodes, MaxScalar: 4096})
	if errors.Is(err, yamltree.ErrEmpty) {
		return &yamltree.Node{}, nil
	}
	return n, err
}

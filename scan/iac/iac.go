// Package iac scans infrastructure-as-code for deployment mistakes that
// expose an AI system: Kubernetes manifests (including multi-document and
// Helm-rendered files), Dockerfiles, docker-compose files and Terraform.
//
// Each file's kind is decided by its content: YAML documents with apiVersion
// and kind are Kubernetes objects, a YAML mapping with services: is a
// compose file, a file of Dockerfile instructions starting with FROM (or ARG
// then FROM) is a Dockerfile, and .tf files are Terraform (HCL). Every
// finding carries the line it was made on and an excerpt naming the
// offending key; secret values are never shown, only their key and length.
//
// Model servers (vLLM, Text Generation Inference, Triton, TorchServe,
// Ollama, Ray Serve, KServe and others) are recognised by image and command
// so that exposing them raises a finding of its own.
package iac

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rampartsec/rampart/finding"
)

// Detector is the value of Finding.Detector for every finding of the package.
const Detector = "iac"

// DefaultMaxFileSize is the largest file Scan reads when Options.MaxFileSize is zero.
const DefaultMaxFileSize = 4 << 20

// Options tune Scan.
type Options struct {
	// MaxFileSize skips files larger than this many bytes; zero means
	// DefaultMaxFileSize.
	MaxFileSize int64
	// OnSkip, when set, is told about every candidate file Scan did not
	// scan (too large, unreadable, not parseable) and why.
	OnSkip func(path string, err error)
}

// Kind is the kind of an infrastructure file.
type Kind int

// The kinds of file the package understands.
const (
	KindUnknown Kind = iota
	KindKubernetes
	KindDockerfile
	KindCompose
	KindTerraform
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindKubernetes:
		return "kubernetes"
	case KindDockerfile:
		return "dockerfile"
	case KindCompose:
		return "compose"
	case KindTerraform:
		return "terraform"
	}
	return "unknown"
}

// skipDirs are never descended into.
var skipDirs = map[string]bool{".git": true, "node_modules": true, ".terraform": true}

// Scan walks root and scans every infrastructure file under it. Findings
// carry paths relative to root (slash-separated). Files that cannot be read
// or parsed are skipped (and reported to opts.OnSkip); Scan fails only when
// the walk itself fails or ctx is done. Kubernetes cross-object rules
// (Service exposure of model servers, missing NetworkPolicy) see the objects
// of all files together.
func Scan(ctx context.Context, root string, opts Options) ([]finding.Finding, error) {
	maxSize := opts.MaxFileSize
	if maxSize <= 0 {
		maxSize = DefaultMaxFileSize
	}
	skip := func(path string, err error) {
		if opts.OnSkip != nil {
			opts.OnSkip(path, err)
		}
	}
	var all []finding.Finding
	var objs []*kubeObject
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			skip(path, err)
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if path != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !candidate(d.Name()) {
			return nil
		}
		rel, rerr := filepath.Rel(root, path)
		if rerr != nil || rel == "." {
			rel = filepath.Base(path) // root is the file itself
		}
		rel = filepath.ToSlash(rel)
		info, ierr := d.Info()
		if ierr != nil {
			skip(rel, ierr)
			return nil
		}
		if info.Size() > maxSize {
			skip(rel, fmt.Errorf("file is %d bytes, over the limit of %d", info.Size(), maxSize))
			return nil
		}
		data, rerr2 := os.ReadFile(path)
		if rerr2 != nil {
			skip(rel, rerr2)
			return nil
		}
		found, fileObjs, serr := scanOne(d.Name(), data)
		if serr != nil {
			skip(rel, serr)
			return nil
		}
		for i := range found {
			found[i].Location.Path = rel
		}
		for _, o := range fileObjs {
			o.path = rel
		}
		all = append(all, found...)
		objs = append(objs, fileObjs...)
		return nil
	})
	if err != nil {
		return all, fmt.Errorf("scan iac %s: %w", root, err)
	}
	all = append(all, kubeSetFindings(objs)...)
	sortFindings(all)
	return all, nil
}

// ScanFile scans one file given its name (for kind detection) and content.
// Location.Path is left empty for the caller to fill in. A file of no known
// kind yields no findings and no error; a file of a known kind that does not
// parse yields an error naming the position.
func ScanFile(path string, data []byte) ([]finding.Finding, error) {
	found, objs, err := scanOne(filepath.Base(path), data)
	if err != nil {
		return nil, err
	}
	found = append(found, kubeSetFindings(objs)...)
	sortFindings(found)
	return found, nil
}

// Detect returns the kind of the file with the given base name and content.
func Detect(name string, data []byte) Kind {
	k, _ := detectKind(name, data)
	return k
}

func scanOne(name string, data []byte) ([]finding.Finding, []*kubeObject, error) {
	kind, docs := detectKind(name, data)
	switch kind {
	case KindTerraform:
		fs, err := scanTerraform(name, data)
		return fs, nil, err
	case KindDockerfile:
		df, err := parseDockerfile(data)
		if err != nil {
			return nil, nil, err
		}
		return scanDockerfile(df), nil, nil
	case KindCompose:
		return scanCompose(docs), nil, nil
	case KindKubernetes:
		objs := kubeObjects(docs, data)
		var fs []finding.Finding
		for _, o := range objs {
			fs = append(fs, kubeObjectFindings(o)...)
		}
		return fs, objs, nil
	}
	if docs == nil && isYAMLName(name) && looksLikeOurYAML(data) {
		if _, err := parseYAML(data); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, nil
}

func detectKind(name string, data []byte) (Kind, []*node) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".tf") {
		return KindTerraform, nil
	}
	if isYAMLName(name) || (!isDockerfileName(lower) && looksLikeOurYAML(data)) {
		docs, err := parseYAML(data)
		if err != nil {
			return KindUnknown, nil
		}
		kube := false
		for _, d := range docs {
			if d.kind != mapNode {
				continue
			}
			if d.get("apiVersion") != nil && d.get("kind") != nil {
				kube = true
			}
			if s := d.get("services"); s != nil && s.kind == mapNode && d.get("apiVersion") == nil {
				return KindCompose, docs
			}
		}
		if kube {
			return KindKubernetes, docs
		}
		return KindUnknown, docs
	}
	if isDockerfileName(lower) && !docExts[filepath.Ext(lower)] {
		return KindDockerfile, nil
	}
	if looksLikeDockerfile(data) {
		return KindDockerfile, nil
	}
	return KindUnknown, nil
}

// docExts are extensions of documents that may be named after Dockerfiles.
var docExts = map[string]bool{".md": true, ".txt": true, ".rst": true, ".adoc": true, ".html": true}

// candidate reports whether Scan reads a file of this base name.
func candidate(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, ".tf") || isYAMLName(name) || isDockerfileName(lower)
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

func isDockerfileName(lower string) bool {
	return strings.Contains(lower, "dockerfile") || strings.Contains(lower, "containerfile")
}

func looksLikeOurYAML(data []byte) bool {
	return bytes.Contains(data, []byte("apiVersion:")) || bytes.Contains(data, []byte("services:"))
}

// newFinding makes a finding of r at a line and byte offset.
func newFinding(r *finding.Rule, line, offset int, excerpt, msg string) finding.Finding {
	f := finding.New(r, finding.Location{Line: line, Offset: int64(offset)}, 0.9, excerpt)
	f.Message = msg
	f.Detector = Detector
	return f
}

func sortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		if c := strings.Compare(a.Location.Path, b.Location.Path); c != 0 {
			return c
		}
		if a.Location.Line != b.Location.Line {
			return a.Location.Line - b.Location.Line
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
}

var errTooDeep = errors.New("nesting too deep")

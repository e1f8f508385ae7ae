// Package model is `rampart scan model`: it says whether model artifacts
// are safe to load. It accepts files, folders and model repositories laid
// out as on model hubs, tells every file's format from its content (never
// from its name), opens containers (ZIP, tar, gzip, zlib, bzip2) within
// limits, and hands each piece to the analyser of its format: pickles
// (PyTorch, joblib, NumPy object arrays) to a static opcode interpreter,
// Keras configurations, TensorFlow graphs, ONNX models, GGUF metadata and
// chat templates, and safetensors headers. Nothing is ever loaded or run.
//
// Findings carry the file (members of archives as "outer!inner"), the byte
// offset within it where the analyser saw the problem, and the offending
// global, operator or key as their excerpt.
package model

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/parallel"
	"github.com/rampartsec/rampart/internal/smallfile"
	"github.com/rampartsec/rampart/internal/version"
	"github.com/rampartsec/rampart/scan/model/pickle"
)

// Options bound a scan. The zero value of a field takes its default.
type Options struct {
	// MaxFiles is the number of files (archive members included) scanned
	// per target; default 100,000.
	MaxFiles int
	// MaxDepth is how deep containers may nest (a zip in a zip is depth
	// 2); default 4.
	MaxDepth int
	// MaxMemberBytes caps the bytes read from one archive member or one
	// decompressed stream; default 16 GiB.
	MaxMemberBytes int64
	// Workers is the number of files scanned at once; default GOMAXPROCS.
	Workers int
	// TempDir is where large archive members are spooled for formats read
	// at random offsets; default os.TempDir().
	TempDir string
	// AllowGlobals are pickle globals the project trusts (its own model
	// classes, "sklearn.*" for scikit-learn estimators), which the scan
	// then judges safe instead of unknown; see pickle.Options.Allow. Scan
	// refuses an entry the policy judges dangerous (pickle.CheckAllow).
	AllowGlobals []string
	// FolderCodeOnly analyses Python files only in folders whose JSON
	// config has auto_map, not a .py file given directly as a path. The
	// combined scan (package scan) sets it: there a .py target is the
	// project's own code, whose process and network calls are its
	// business, not code a model ships.
	FolderCodeOnly bool
}

func (o Options) withDefaults() Options {
	if o.MaxFiles <= 0 {
		o.MaxFiles = 100_000
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 4
	}
	if o.MaxMemberBytes <= 0 {
		o.MaxMemberBytes = 16 << 30
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	return o
}

// Scan scans every path (a file or a folder, walked recursively; `.git`
// folders are skipped) and returns one report. An error means a target
// could not be scanned at all (it does not exist, or ctx ended); problems
// inside files are findings.
func Scan(ctx context.Context, paths []string, opts Options) (*finding.Report, error) {
	opts = opts.withDefaults()
	for _, a := range opts.AllowGlobals {
		if err := pickle.CheckAllow(a); err != nil {
			return nil, err
		}
	}
	started := time.Now()
	rep := &finding.Report{
		Tool:    "rampart",
		Version: version.Version,
		Command: "scan model",
		Targets: slices.Clone(paths),
		Started: started.UTC(),
	}
	var jobs []job
	for _, p := range paths {
		js, fs, err := collect(p, opts)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, js...)
		rep.Findings = append(rep.Findings, fs...)
	}

	results := make([][]finding.Finding, len(jobs))
	parallel.Each(ctx, len(jobs), opts.Workers, func(_, i int) {
		s := &scanner{ctx: ctx, opts: opts, budget: opts.MaxFiles}
		s.file(jobs[i])
		results[i] = s.findings
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, fs := range results {
		rep.Findings = append(rep.Findings, fs...)
	}
	finding.Sort(rep.Findings)
	rep.Rules = Rules()
	rep.Duration = time.Since(started)
	return rep, nil
}

// job is one file on disk to scan.
type job struct {
	path string // as shown in findings
	abs  string // to open
	dir  string // the folder it lies in, for formats that reference other files
	code bool   // Python code a model ships for trust_remote_code: analysed by pycode
}

// collect lists the files of one target and reports links that leave it.
func collect(target string, opts Options) ([]job, []finding.Finding, error) {
	info, err := os.Stat(target)
	if err != nil {
		return nil, nil, fmt.Errorf("scan model: %w", err)
	}
	if !info.IsDir() {
		return []job{{path: target, abs: target, dir: filepath.Dir(target), code: isPython(target) && !opts.FolderCodeOnly}}, nil, nil
	}
	root, err := filepath.Abs(target)
	if err != nil {
		return nil, nil, fmt.Errorf("scan model: %w", err)
	}
	var (
		jobs []job
		fs_  []finding.Finding
	)
	err = filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fs_ = append(fs_, fileFinding(ruleUnreadable, p, 0, "", err.Error()))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != target {
				return fs.SkipDir
			}
			return nil
		}
		if len(jobs) >= opts.MaxFiles {
			fs_ = append(fs_, fileFinding(ruleLimit, target, 0, "", fmt.Sprintf("more than %d files; the rest were not scanned", opts.MaxFiles)))
			return fs.SkipAll
		}
		if d.Type()&fs.ModeSymlink != 0 {
			dest, err := filepath.EvalSymlinks(p)
			if err != nil {
				fs_ = append(fs_, fileFinding(ruleUnreadable, p, 0, "", "broken symbolic link"))
				return nil
			}
			abs, _ := filepath.Abs(dest)
			if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) {
				return nil // scanned where it lies
			}
			fs_ = append(fs_, fileFinding(ruleSymlink, p, 0, dest, "the link leads outside the scanned folder; its target is scanned too"))
			if st, err := os.Stat(abs); err != nil || !st.Mode().IsRegular() {
				return nil
			}
			jobs = append(jobs, job{path: p, abs: abs, dir: filepath.Dir(p)})
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		jobs = append(jobs, job{path: p, abs: p, dir: filepath.Dir(p)})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("scan model: walk %s: %w", target, err)
	}
	markRemoteCode(jobs)
	return jobs, fs_, nil
}

// markRemoteCode marks the Python files of every folder where a JSON
// config maps classes to shipped code (auto_map): loading that model with
// trust_remote_code=True runs them. Python files of other folders are a
// project's own code, not the model's, and are left alone.
func markRemoteCode(jobs []job) {
	withPython := map[string]bool{}
	for _, j := range jobs {
		if isPython(j.path) {
			withPython[j.dir] = true
		}
	}
	if len(withPython) == 0 {
		return
	}
	remote := map[string]bool{}
	for _, j := range jobs {
		if withPython[j.dir] && !remote[j.dir] && strings.EqualFold(filepath.Ext(j.path), ".json") && hasAutoMap(j.abs) {
			remote[j.dir] = true
		}
	}
	for i := range jobs {
		jobs[i].code = remote[jobs[i].dir] && isPython(jobs[i].path)
	}
}

// hasAutoMap reports a JSON file whose top-level object has a non-empty
// auto_map object.
func hasAutoMap(path string) bool {
	b, err := smallfile.Read(path, jsonLimit)
	if err != nil || !bytes.Contains(b, []byte(`"auto_map"`)) {
		return false
	}
	var top struct {
		AutoMap map[string]json.RawMessage `json:"auto_map"`
	}
	return json.Unmarshal(b, &top) == nil && len(top.AutoMap) > 0
}

// isPython reports a Python source file name.
func isPython(name string) bool { return strings.EqualFold(filepath.Ext(name), ".py") }

// fileFinding makes one of the driver's own findings.
func fileFinding(r *finding.Rule, path string, off int64, excerpt, msg string) finding.Finding {
	f := finding.New(r, finding.Location{Path: path, Offset: off}, 1, excerpt)
	f.Message = msg
	f.Detector = "model"
	return f
}

// isModelName reports file names that model tools load as models, so that
// content the scanner does not recognise under such a name is reported.
func isModelName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".pt", ".pth", ".bin", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill", ".h5", ".hdf5",
		".keras", ".onnx", ".gguf", ".safetensors", ".npy", ".npz", ".pb", ".mar", ".tflite", ".model", ".skops":
		return true
	}
	return false
}

// safeName reports file names of formats that cannot run code: a pickle
// behind such a name is disguised.
func safeName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".safetensors", ".gguf", ".onnx", ".json", ".txt", ".md", ".npy":
		return true
	}
	return false
}

// isPickleName reports archive member names that loaders unpickle: a
// member so named that starts like a pickle is analysed in full, and any
// other only when it imports something.
func isPickleName(name string) bool {
	base := strings.ToLower(filepath.Base(name))
	switch filepath.Ext(base) {
	case ".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".dill", ".data":
		return true
	}
	return base == "pickle" || base == "sys_info"
}

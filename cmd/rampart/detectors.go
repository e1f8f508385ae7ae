package main

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
)

// detectorFlags are the flags check and eval share to build detectors.
type detectorFlags struct {
	config    string
	options   []string
	role      string
	surface   string
	threshold float64
	maxLine   int
	cfg       *config.Config // loaded from config, if any
}

func (f *detectorFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "rampart.yaml whose detectors: section defines the detectors (names, types, options) and whose policy thresholds apply")
	fl.StringArrayVar(&f.options, "option", nil, "detector option override key=value (value in YAML: 3, true, [a, b]); repeatable")
	fl.StringVar(&f.role, "role", string(detect.RoleUser), "role of the text: system, user, assistant, tool or document (a JSONL row's role field overrides it)")
	fl.StringVar(&f.surface, "surface", string(detect.SurfacePrompt), "surface of the text: prompt, response, file or dataset")
	fl.Float64Var(&f.threshold, "threshold", 0, "operating point overriding the configured or calibrated one (flagged when score >= threshold)")
	fl.IntVar(&f.maxLine, "max-line", 4<<20, "longest JSONL line accepted, in bytes")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
}

// errSilent is an error that prints nothing: the exit code says it all.
var errSilent = errors.New("")

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// load reads --config, validates the context flags and the options.
func (f *detectorFlags) load() error {
	switch detect.Role(f.role) {
	case detect.RoleSystem, detect.RoleUser, detect.RoleAssistant, detect.RoleTool, detect.RoleDocument:
	default:
		return usageError("--role %q: want system, user, assistant, tool or document", f.role)
	}
	switch detect.Surface(f.surface) {
	case detect.SurfacePrompt, detect.SurfaceResponse, detect.SurfaceFile, detect.SurfaceDataset:
	default:
		return usageError("--surface %q: want prompt, response, file or dataset", f.surface)
	}
	if f.maxLine <= 0 {
		return usageError("--max-line must be positive")
	}
	if _, err := f.overrides(); err != nil {
		return &exitError{code: 2, err: err}
	}
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		f.cfg = cfg
	}
	return nil
}

// overrides parses --option flags.
func (f *detectorFlags) overrides() (map[string]any, error) {
	out := map[string]any{}
	for _, o := range f.options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--option %q: want key=value", o)
		}
		var val any
		if err := yaml.Unmarshal([]byte(v), &val); err != nil {
			return nil, fmt.Errorf("--option %s: %w", k, err)
		}
		out[k] = val
	}
	return out, nil
}

// names returns the detectors to run when none was named: every detector
// of --config, or else every registered type that builds without options.
func (f *detectorFlags) names(reg *detect.Registry) []string {
	if f.cfg != nil {
		return slices.Sorted(maps.Keys(f.cfg.Detectors))
	}
	var out []string
	for _, t := range reg.Types() {
		if _, err := reg.New(t, nil); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// built is a detector with what check and eval need to know about it.
type built struct {
	name      string // as named on the command line
	typ       string // registered type
	d         detect.Detector
	threshold float64
}

// build makes the detector called name: an entry of --config's detectors:
// section when there is one of that name, else the registered type name;
// --option values override its options. Its threshold is --threshold when
// set, else the lowest threshold of the --config policy rules that use it,
// else the detector's calibrated one (detect.ThresholdOf).
func (f *detectorFlags) build(cmd *cobra.Command, reg *detect.Registry, name string) (built, error) {
	b := built{name: name, typ: name}
	opts := map[string]any{}
	thr := math.NaN()
	if f.cfg != nil {
		if d, ok := f.cfg.Detectors[name]; ok {
			b.typ = d.Type
			maps.Copy(opts, d.Options)
			for _, p := range f.cfg.Policies {
				for _, r := range append(slices.Clone(p.Input), p.Output...) {
					if r.Detector == name && r.Threshold != nil && (math.IsNaN(thr) || *r.Threshold < thr) {
						thr = *r.Threshold
					}
				}
			}
		}
	}
	ov, err := f.overrides()
	if err != nil {
		return b, err
	}
	maps.Copy(opts, ov)
	if len(opts) == 0 {
		opts = nil
	}
	b.d, err = reg.New(b.typ, opts)
	if err != nil {
		return b, fmt.Errorf("detector %s: %w", name, err)
	}
	switch {
	case cmd.Flags().Changed("threshold"):
		b.threshold = f.threshold
	case !math.IsNaN(thr):
		b.threshold = thr
	default:
		b.threshold = detect.ThresholdOf(b.d)
	}
	return b, nil
}

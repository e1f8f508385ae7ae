package evaluate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/rampartsec/rampart/detect"
)

// Floors is a floors file: the minimum figures each detector must reach on
// its dev data.
//
//	floors:
//	  - detector: secrets                  # registered detector type
//	    data: secrets/testdata/dev.jsonl   # relative to the floors file
//	    options: {}                        # detector options (optional)
//	    threshold: 0.5                     # optional; default the detector's
//	    role: assistant                    # optional input context (default
//	    surface: response                  # user, prompt; a row's role wins)
//	    positive: [secret]                 # optional; default per detector
//	    min: {f1: 0.95, recall_at_1pct_fpr: 0.9}
//	    max: {fpr: 0.01}
//	    groups:
//	      - {by: family, value: notinject, max: {fpr: 0.05}}
type Floors struct {
	Floors []Floor `yaml:"floors"`
	// Dir is the floors file's directory; data paths are relative to it.
	Dir string `yaml:"-"`
}

// Floor is one detector's floors on one data file.
type Floor struct {
	// Detector is the registered detector type.
	Detector string `yaml:"detector"`
	// Data is the dev file, relative to the floors file.
	Data string `yaml:"data"`
	// Options are passed to the detector's factory.
	Options map[string]any `yaml:"options"`
	// Threshold overrides the detector's calibrated threshold.
	Threshold *float64 `yaml:"threshold"`
	// Role and Surface set the input context (default user and prompt);
	// a row's "role" field still overrides Role.
	Role    string `yaml:"role"`
	Surface string `yaml:"surface"`
	// Positive and TypeMap override the detector's defaults (see
	// DefaultConfig).
	Positive []string          `yaml:"positive"`
	TypeMap  map[string]string `yaml:"type_map"`
	// Min maps figures (Report.Figure) to their floors, Max to their
	// ceilings.
	Min map[string]float64 `yaml:"min"`
	Max map[string]float64 `yaml:"max"`
	// Groups bound figures of single breakdown groups.
	Groups []GroupFloor `yaml:"groups"`
}

// GroupFloor bounds the figures of one breakdown group.
type GroupFloor struct {
	// By is "family", "lang" or "source"; Value the group.
	By    string             `yaml:"by"`
	Value string             `yaml:"value"`
	Min   map[string]float64 `yaml:"min"`
	Max   map[string]float64 `yaml:"max"`
}

var overallFigures = []string{"precision", "recall", "f1", "fpr", "recall_at_1pct_fpr", "recall_at_5pct_fpr",
	"roc_auc", "span_precision", "span_recall", "span_f1", "span_exact_f1"}

var groupFigures = []string{"precision", "recall", "f1", "fpr"}

// LoadFloors reads and validates a floors file: unknown keys, unknown
// figures, bounds outside [0, 1] and entries without a detector or data
// file are errors.
func LoadFloors(path string) (*Floors, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("floors: %w", err)
	}
	var f Floors
	if err := yaml.NewDecoder(bytes.NewReader(b), yaml.DisallowUnknownField()).Decode(&f); err != nil {
		return nil, fmt.Errorf("floors %s: %w", path, err)
	}
	f.Dir = filepath.Dir(path)
	for i, fl := range f.Floors {
		where := fmt.Sprintf("floors %s: entry %d", path, i+1)
		if fl.Detector == "" || fl.Data == "" {
			return nil, fmt.Errorf("%s: detector and data are required", where)
		}
		switch detect.Role(fl.Role) {
		case "", detect.RoleSystem, detect.RoleUser, detect.RoleAssistant, detect.RoleTool, detect.RoleDocument:
		default:
			return nil, fmt.Errorf("%s (%s): role %q is not system, user, assistant, tool or document", where, fl.Detector, fl.Role)
		}
		switch detect.Surface(fl.Surface) {
		case "", detect.SurfacePrompt, detect.SurfaceResponse, detect.SurfaceFile, detect.SurfaceDataset:
		default:
			return nil, fmt.Errorf("%s (%s): surface %q is not prompt, response, file or dataset", where, fl.Detector, fl.Surface)
		}
		if err := checkBounds(fl.Min, overallFigures); err != nil {
			return nil, fmt.Errorf("%s (%s): min: %w", where, fl.Detector, err)
		}
		if err := checkBounds(fl.Max, overallFigures); err != nil {
			return nil, fmt.Errorf("%s (%s): max: %w", where, fl.Detector, err)
		}
		for j, g := range fl.Groups {
			if g.By != "family" && g.By != "lang" && g.By != "source" {
				return nil, fmt.Errorf("%s (%s): group %d: by must be family, lang or source, not %q", where, fl.Detector, j+1, g.By)
			}
			if err := checkBounds(g.Min, groupFigures); err != nil {
				return nil, fmt.Errorf("%s (%s): group %d: min: %w", where, fl.Detector, j+1, err)
			}
			if err := checkBounds(g.Max, groupFigures); err != nil {
				return nil, fmt.Errorf("%s (%s): group %d: max: %w", where, fl.Detector, j+1, err)
			}
		}
	}
	return &f, nil
}

func checkBounds(m map[string]float64, known []string) error {
	for k, v := range m {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown figure %q (known: %s)", k, strings.Join(known, ", "))
		}
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%s: %v is outside [0, 1]", k, v)
		}
	}
	return nil
}

// Violation is a figure on the wrong side of its floor (or ceiling), or a
// floor that could not be measured.
type Violation struct {
	Detector string
	Data     string
	// Figure names the figure, prefixed with the group for group bounds
	// ("family=notinject fpr").
	Figure string
	// Got is the measured value; nil when undefined or not measured.
	Got *float64
	// Bound is the floor (Max false) or ceiling (Max true).
	Bound float64
	Max   bool
	// Err is set when the entry could not be evaluated at all.
	Err error
}

// String describes the violation in one line, naming the detector, the
// data, the figure, its value and its bound.
func (v Violation) String() string {
	if v.Err != nil {
		return fmt.Sprintf("%s on %s: %v", v.Detector, v.Data, v.Err)
	}
	got := "undefined"
	if v.Got != nil {
		got = fmt.Sprintf("%.4f", *v.Got)
	}
	if v.Max {
		return fmt.Sprintf("%s on %s: %s = %s, above its ceiling %.4f", v.Detector, v.Data, v.Figure, got, v.Bound)
	}
	return fmt.Sprintf("%s on %s: %s = %s, below its floor %.4f", v.Detector, v.Data, v.Figure, got, v.Bound)
}

// Check compares a report with the floor's bounds and returns every
// violation, in a stable order.
func (fl Floor) Check(r *Report) []Violation {
	var out []Violation
	add := func(figure string, got *float64, bound float64, isMax bool) {
		if got == nil || (!isMax && *got < bound) || (isMax && *got > bound) {
			out = append(out, Violation{Detector: fl.Detector, Data: fl.Data, Figure: figure, Got: got, Bound: bound, Max: isMax})
		}
	}
	for _, k := range sortedKeys(fl.Min) {
		got, err := r.Figure(k)
		if err != nil {
			out = append(out, Violation{Detector: fl.Detector, Data: fl.Data, Figure: k, Err: err})
			continue
		}
		add(k, got, fl.Min[k], false)
	}
	for _, k := range sortedKeys(fl.Max) {
		got, err := r.Figure(k)
		if err != nil {
			out = append(out, Violation{Detector: fl.Detector, Data: fl.Data, Figure: k, Err: err})
			continue
		}
		add(k, got, fl.Max[k], true)
	}
	for _, g := range fl.Groups {
		groups, err := r.Groups(g.By)
		if err != nil {
			out = append(out, Violation{Detector: fl.Detector, Data: fl.Data, Err: err})
			continue
		}
		var sc *Scores
		for i := range groups {
			if groups[i].Value == g.Value {
				sc = &groups[i].Scores
			}
		}
		name := g.By + "=" + g.Value
		if sc == nil {
			out = append(out, Violation{Detector: fl.Detector, Data: fl.Data, Err: fmt.Errorf("%s: no rows in the data", name)})
			continue
		}
		for _, k := range sortedKeys(g.Min) {
			got, _ := groupFigure(*sc, k)
			add(name+" "+k, got, g.Min[k], false)
		}
		for _, k := range sortedKeys(g.Max) {
			got, _ := groupFigure(*sc, k)
			add(name+" "+k, got, g.Max[k], true)
		}
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Outcome is the result of one floors entry.
type Outcome struct {
	Floor      Floor
	Report     *Report
	Violations []Violation
}

// Run evaluates every entry of f whose detector is in only (all when only
// is empty), building detectors from reg, and returns one outcome per
// entry. An entry whose detector is not registered, whose options are
// invalid or whose data cannot be read or parsed gets a violation with Err
// set: a floor that cannot be measured fails.
func (f *Floors) Run(ctx context.Context, reg *detect.Registry, only []string) []Outcome {
	var out []Outcome
	for _, fl := range f.Floors {
		if len(only) > 0 && !slices.Contains(only, fl.Detector) {
			continue
		}
		o := Outcome{Floor: fl}
		rep, err := f.run(ctx, reg, fl)
		if err != nil {
			o.Violations = []Violation{{Detector: fl.Detector, Data: fl.Data, Err: err}}
		} else {
			o.Report = rep
			o.Violations = fl.Check(rep)
		}
		out = append(out, o)
	}
	return out
}

func (f *Floors) run(ctx context.Context, reg *detect.Registry, fl Floor) (*Report, error) {
	d, err := reg.New(fl.Detector, fl.Options)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig(fl.Detector)
	cfg.Data = fl.Data
	cfg.Threshold = detect.ThresholdOf(d)
	if fl.Threshold != nil {
		cfg.Threshold = *fl.Threshold
	}
	if fl.Role != "" {
		cfg.Role = detect.Role(fl.Role)
	}
	if fl.Surface != "" {
		cfg.Surface = detect.Surface(fl.Surface)
	}
	if fl.Positive != nil {
		cfg.Positive = fl.Positive
		cfg.PositiveBySpans = false
	}
	if fl.TypeMap != nil {
		cfg.TypeMap, cfg.MapType, cfg.Labels = fl.TypeMap, nil, nil
	}
	path := fl.Data
	if !filepath.IsAbs(path) {
		path = filepath.Join(f.Dir, path)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	rep, err := Evaluate(ctx, d, file, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fl.Data, err)
	}
	return rep, nil
}

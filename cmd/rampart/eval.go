package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

func newEvalCmd(reg *detect.Registry) *cobra.Command {
	var (
		df          detectorFlags
		detector    string
		data        string
		format      string
		predictions string
		positive    string
		typeMap     string
		repeat      int
		floors      string
	)
	cmd := &cobra.Command{
		Use:   "eval --detector NAME --data FILE.jsonl",
		Short: "Measure a detector on labelled JSONL data, or check the recorded floors",
		Long: `Measure a detector on labelled JSONL data: one object per line with "text" and
"label" (optional "family", "lang", "source", "role"; span tasks add "entities"
or "secrets" lists of {type, start, end} in Unicode code points).

It prints precision, recall and F1 at the detector's threshold, recall at 1 %
and 5 % false-positive rate, ROC AUC, breakdowns per family, lang and source,
span-level figures per type (IoU >= 0.5 and exact), and speed (p50/p99 per
item, MB/s; single-threaded, --repeat N takes each item's median of N runs).

Positive labels: injection → injection, jailbreak; toxicity → toxic; secrets →
secret; unicode → smuggling; exfil → exfil; canary → leak; pii → rows with a
gold span (non-empty entities). --positive overrides them.

--predictions PRED.jsonl reads another tool's per-line results (the shape of
` + "`rampart check --jsonl`" + `, optionally with "ms") instead of running our detector.

--floors FILE checks every entry of a floors file (or those of --detector) and
exits 1 naming each figure below its floor.

Exit status: 0 done (floors met), 1 a floor not met, 2 an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageError("--format %q: want table or json", format)
			}
			if repeat < 1 {
				return usageError("--repeat must be at least 1")
			}
			if err := df.load(); err != nil {
				return err
			}
			if floors != "" {
				for _, f := range []string{"data", "predictions", "positive", "type-map", "threshold", "option", "config", "repeat", "role", "surface"} {
					if cmd.Flags().Changed(f) {
						return usageError("--floors takes everything but --detector and --format from the floors file; drop --%s", f)
					}
				}
				var only []string
				if detector != "" {
					only = []string{detector}
				}
				return runFloors(cmd, reg, floors, only, format)
			}
			if detector == "" || data == "" {
				return usageError("--detector and --data are required (or --floors)")
			}
			cfg := evaluate.DefaultConfig(detector)
			var b built
			if predictions == "" || df.cfg != nil {
				var err error
				if b, err = df.build(cmd, reg, detector); err != nil {
					return &exitError{code: 2, err: err}
				}
				cfg = evaluate.DefaultConfig(b.typ)
				cfg.Threshold = b.threshold
			} else if cmd.Flags().Changed("threshold") {
				cfg.Threshold = df.threshold
			}
			cfg.Name = detector
			cfg.Data = data
			cfg.Role = detect.Role(df.role)
			cfg.Surface = detect.Surface(df.surface)
			cfg.Repeat = repeat
			cfg.MaxLine = df.maxLine
			if cmd.Flags().Changed("positive") {
				cfg.Positive = splitList(positive)
				cfg.PositiveBySpans = false
			}
			if typeMap != "" {
				m, err := loadTypeMap(typeMap)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				cfg.TypeMap, cfg.MapType, cfg.Labels = m, nil, nil
			}
			f, err := os.Open(data)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			defer f.Close()
			var rep *evaluate.Report
			if predictions != "" {
				p, err := os.Open(predictions)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				defer p.Close()
				rep, err = evaluate.EvaluatePredictions(cmd.Context(), f, p, cfg)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
			} else {
				rep, err = evaluate.Evaluate(cmd.Context(), b.d, f, cfg)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("%s: %w", data, err)}
				}
			}
			if err := writeReport(cmd.OutOrStdout(), rep, format); err != nil {
				return &exitError{code: 2, err: err}
			}
			return nil
		},
	}
	df.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&detector, "detector", "", "detector to measure: injection, pii, secrets, exfil, canary, unicode, toxicity, … or a --config detector name")
	fl.StringVar(&data, "data", "", "labelled JSONL file")
	fl.StringVar(&format, "format", "table", "output format: table or json")
	fl.StringVar(&predictions, "predictions", "", "JSONL predictions of another tool, one per data row, instead of running the detector")
	fl.StringVar(&positive, "positive", "", "comma-separated labels counted as positive, overriding the detector's")
	fl.StringVar(&typeMap, "type-map", "", `YAML or JSON map of dataset span types to detector labels, e.g. {"EMAIL_ADDRESS": "EMAIL"}; {"*": "*"} matches any`)
	fl.IntVar(&repeat, "repeat", 1, "run the detector N times per row and time each row by the median")
	fl.StringVar(&floors, "floors", "", "floors file (detect/floors.yaml): evaluate its entries and fail on any figure below its floor")
	return cmd
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func loadTypeMap(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--type-map: %w", err)
	}
	var m map[string]string
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("--type-map %s: %w", path, err)
	}
	return m, nil
}

func writeReport(w io.Writer, rep *evaluate.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(w)
}

// floorsOutcome is one entry of `rampart eval --floors --format json`.
type floorsOutcome struct {
	Detector   string           `json:"detector"`
	Data       string           `json:"data"`
	OK         bool             `json:"ok"`
	Violations []string         `json:"violations"`
	Report     *evaluate.Report `json:"report,omitempty"`
}

func runFloors(cmd *cobra.Command, reg *detect.Registry, path string, only []string, format string) error {
	fl, err := evaluate.LoadFloors(path)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	outcomes := fl.Run(cmd.Context(), reg, only)
	if len(outcomes) == 0 {
		return usageError("%s has no entry for detector %s", path, strings.Join(only, ", "))
	}
	out := cmd.OutOrStdout()
	failed := 0
	var js []floorsOutcome
	for _, o := range outcomes {
		fo := floorsOutcome{Detector: o.Floor.Detector, Data: o.Floor.Data, OK: len(o.Violations) == 0, Violations: []string{}, Report: o.Report}
		for _, v := range o.Violations {
			fo.Violations = append(fo.Violations, v.String())
		}
		if !fo.OK {
			failed++
		}
		js = append(js, fo)
		if format == "table" {
			status := "ok  "
			if !fo.OK {
				status = "FAIL"
			}
			fmt.Fprintf(out, "%s %s on %s%s\n", status, fo.Detector, fo.Data, floorSummary(o))
			for _, v := range fo.Violations {
				fmt.Fprintf(out, "     %s\n", v)
			}
		}
	}
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(js); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d floors entries not met", failed, len(outcomes))}
	}
	return nil
}

// floorSummary lists the measured figures an entry bounds.
func floorSummary(o evaluate.Outcome) string {
	if o.Report == nil {
		return ""
	}
	var parts []string
	for _, m := range []map[string]float64{o.Floor.Min, o.Floor.Max} {
		for _, k := range sortedFigureKeys(m) {
			if v, err := o.Report.Figure(k); err == nil && v != nil {
				parts = append(parts, fmt.Sprintf("%s %.4f", k, *v))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

func sortedFigureKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

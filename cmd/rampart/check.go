package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/detect"
	"github.com/rampartsec/rampart/evaluate"
)

// maxCheckInput bounds the text `rampart check` reads from standard input
// outside --jsonl mode.
const maxCheckInput = 16 << 20

func newCheckCmd(reg *detect.Registry) *cobra.Command {
	var (
		df        detectorFlags
		detectors []string
		format    string
		jsonl     bool
	)
	cmd := &cobra.Command{
		Use:   "check [TEXT...]",
		Short: "Run detectors on a text (arguments or standard input) and print what they find",
		Long: `Run detectors on a text and print their findings with the matched values masked.

The text is the arguments joined by spaces, or else standard input. With
--jsonl, standard input is JSONL: the "text" field of each line is checked
and one JSON object is written per input line, in order, flushed line by
line, in constant memory:

  {"score": 0.97, "flagged": true, "findings": [{"detector": "secrets",
   "rule_id": "secrets.openai-api-key", "severity": "high", "label":
   "OPENAI_API_KEY", "start": 8, "end": 59, "score": 0.97, "excerpt": "…"}]}

A line that cannot be checked (empty, malformed JSON, no string "text",
invalid UTF-8, longer than --max-line, a detector error) gives
{"error": "line N: …"} in its place and the run goes on, so output line N
always answers input line N.

Detectors are registered types (secrets, pii, …) or, with --config, the names
of its detectors: section; without --detector, every configured detector, or
every registered type that needs no options. A text is flagged when a
detector's score (its highest hit score) reaches its threshold.

Exit status: 0 nothing flagged, 1 something flagged, 2 an error (including
any error line in --jsonl mode).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return usageError("--format %q: want table or json", format)
			}
			if jsonl && len(args) > 0 {
				return usageError("--jsonl reads standard input; do not pass text arguments")
			}
			if err := df.load(); err != nil {
				return err
			}
			names := detectors
			if len(names) == 0 {
				names = df.names(reg)
			}
			if len(names) == 0 {
				return usageError("no detector to run: name one with --detector")
			}
			c := &evaluate.Checker{Role: detect.Role(df.role), Surface: detect.Surface(df.surface), MaxLine: df.maxLine}
			for _, n := range names {
				b, err := df.build(cmd, reg, n)
				if err != nil {
					return &exitError{code: 2, err: err}
				}
				c.Detectors = append(c.Detectors, evaluate.Checked{Name: b.name, Detector: b.d, Threshold: b.threshold})
			}
			if jsonl {
				sum, err := c.CheckJSONL(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
				switch {
				case err != nil:
					return &exitError{code: 2, err: err}
				case sum.Errors > 0:
					return &exitError{code: 2, err: fmt.Errorf("%d of %d lines could not be checked", sum.Errors, sum.Lines)}
				case sum.Flagged > 0:
					return &exitError{code: 1, err: errSilent}
				}
				return nil
			}
			text := strings.Join(args, " ")
			if len(args) == 0 {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxCheckInput+1))
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("read standard input: %w", err)}
				}
				if len(b) > maxCheckInput {
					return usageError("standard input is longer than %d bytes; use --jsonl for large inputs", maxCheckInput)
				}
				text = string(b)
			}
			if !utf8.ValidString(text) {
				return usageError("the text is not valid UTF-8")
			}
			res, err := c.Check(cmd.Context(), detect.Input{Text: text, Role: c.Role, Surface: c.Surface}, nil)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				err = enc.Encode(res)
			} else {
				err = writeCheckTable(out, res, c.Detectors)
			}
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if res.Flagged {
				return &exitError{code: 1, err: errSilent}
			}
			return nil
		},
	}
	df.register(cmd)
	cmd.Flags().StringArrayVar(&detectors, "detector", nil, "detector to run (repeatable): injection, pii, secrets, exfil, canary, unicode, toxicity, … or a --config detector name")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVar(&jsonl, "jsonl", false, "read JSONL from standard input and write one JSON result per line")
	return cmd
}

func writeCheckTable(w io.Writer, res evaluate.Result, dets []evaluate.Checked) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(res.Findings) == 0 {
		fmt.Fprintln(tw, "no findings")
	} else {
		fmt.Fprintln(tw, "DETECTOR\tRULE\tSEVERITY\tLABEL\tSCORE\tSPAN\tEXCERPT")
		for _, f := range res.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%d-%d\t%s\n", f.Detector, f.RuleID, f.Severity, f.Label, f.Score, f.Start, f.End, f.Excerpt)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	thr := make([]string, len(dets))
	for i, d := range dets {
		thr[i] = fmt.Sprintf("%s %.2f", d.Name, d.Threshold)
	}
	verdict := "not flagged"
	if res.Flagged {
		verdict = "FLAGGED"
	}
	_, err := fmt.Fprintf(w, "%s: score %.2f (thresholds: %s)\n", verdict, res.Score, strings.Join(thr, ", "))
	return err
}

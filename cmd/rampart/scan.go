package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/scan/model"
)

func newScanCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan static artifacts: model files (more surfaces to come)",
	}
	cmd.AddCommand(newScanModelCmd())
	return cmd
}

// reportFlags are the output flags every scanning command shares.
type reportFlags struct {
	format string
	failOn string
	output string
}

func (f *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "table", "report format: "+strings.Join(finding.FormatNames(), ", "))
	cmd.Flags().StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding reaches this severity (info, low, medium, high, critical, or none)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
}

// parse validates the flags before any work is done.
func (f *reportFlags) parse() (finding.Format, finding.Severity, bool, error) {
	format, err := finding.ParseFormat(f.format)
	if err != nil {
		return 0, 0, false, usageError("--format: %v", err)
	}
	if strings.EqualFold(strings.TrimSpace(f.failOn), "none") {
		return format, 0, false, nil
	}
	sev, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return 0, 0, false, usageError("--fail-on: %v (or none)", err)
	}
	return format, sev, true, nil
}

// write renders rep and turns --fail-on into the exit status.
func (f *reportFlags) write(stdout io.Writer, rep *finding.Report, format finding.Format, failOn finding.Severity, gate bool) error {
	w := stdout
	var file *os.File
	if f.output != "" {
		var err error
		file, err = os.Create(f.output)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--output: %w", err)}
		}
		w = file
	}
	bw := bufio.NewWriter(w)
	err := finding.Write(bw, format, rep)
	if err == nil {
		err = bw.Flush()
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write the report: %w", err)}
	}
	if gate && rep.Fails(failOn) {
		return &exitError{code: 1, err: errSilent}
	}
	return nil
}

func newScanModelCmd() *cobra.Command {
	var (
		rf   reportFlags
		opts model.Options
	)
	cmd := &cobra.Command{
		Use:   "model PATH...",
		Short: "Find code execution hidden in model files, folders and model repositories",
		Long: `Scan model artifacts statically, without loading or running anything.

Each PATH is a file or a folder (walked recursively, .git skipped), such as a
model repository laid out as on a model hub. Formats are told by content, not
by file name: pickles (PyTorch .pt/.bin/.pth/.ckpt, joblib, NumPy object
arrays) are interpreted opcode by opcode and every global they would import
or call is judged against an allowlist and a denylist; ZIP, tar, gzip, zlib
and bzip2 containers are opened within limits; Keras .keras and .h5
configurations, TensorFlow SavedModels, ONNX models, GGUF metadata and chat
templates, tokenizer configs and safetensors headers are checked.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			rep, err := model.Scan(cmd.Context(), args, opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return rf.write(cmd.OutOrStdout(), rep, format, failOn, gate)
		},
	}
	rf.register(cmd)
	cmd.Flags().IntVar(&opts.MaxDepth, "max-depth", 0, "deepest nesting of containers to open (default 4)")
	cmd.Flags().IntVar(&opts.MaxFiles, "max-files", 0, "most files and archive members to scan per path (default 100000)")
	cmd.Flags().IntVar(&opts.Workers, "workers", 0, "files scanned at once (default: the number of CPUs)")
	return cmd
}

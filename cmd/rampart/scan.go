package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/finding"
	"github.com/rampartsec/rampart/internal/version"
	"github.com/rampartsec/rampart/scan"
	"github.com/rampartsec/rampart/scan/deps"
	"github.com/rampartsec/rampart/scan/deps/osv"
	"github.com/rampartsec/rampart/scan/iac"
	"github.com/rampartsec/rampart/scan/model"
	"github.com/rampartsec/rampart/scan/model/pickle"
	"github.com/rampartsec/rampart/scan/secrets"
)

func newScanCmd() *cobra.Command {
	var (
		rf   reportFlags
		vf   vulnFlags
		opts scan.Options
	)
	cmd := &cobra.Command{
		Use:   "scan [PATH]",
		Short: "Scan static artifacts: model files, dependencies, secrets, infrastructure code",
		Long: `With a PATH and no subcommand, run every static scanner on it — dependencies
(scan deps), secrets in files (scan secrets; with --git also every commit of
the history), infrastructure code (scan iac) and model files (scan model) —
and write one combined report.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			if err := checkAllowGlobal(opts.Model); err != nil {
				return err
			}
			started := time.Now()
			if err := vf.apply(cmd, &opts.Deps); err != nil {
				return err
			}
			res, err := scan.All(cmd.Context(), args[0], opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return rf.write(cmd.OutOrStdout(), report("scan", args, started, res.Findings, scan.Rules()), format, failOn, gate)
		},
	}
	rf.register(cmd)
	vf.register(cmd)
	cmd.Flags().BoolVar(&opts.History, "git", false, "also scan every commit of the git history for secrets")
	registerAllowGlobal(cmd, &opts.Model)
	cmd.AddCommand(newScanModelCmd(), newScanDepsCmd(), newScanSecretsCmd(), newScanIaCCmd())
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
or call is judged against an allowlist and a denylist; ZIP and tar archives
and gzip, zlib, bzip2, xz, LZMA, zstd and LZ4 streams are opened within
limits; skops schemas, Keras .keras and .h5 configurations, TensorFlow
SavedModels, ONNX models, GGUF metadata and chat templates, tokenizer configs
and safetensors headers are checked.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			if err := checkAllowGlobal(opts); err != nil {
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
	registerAllowGlobal(cmd, &opts)
	return cmd
}

// checkAllowGlobal refuses, as a usage error, an --allow-global entry
// that is not a dotted path or that names a dangerous global.
func checkAllowGlobal(opts model.Options) error {
	for _, a := range opts.AllowGlobals {
		if err := pickle.CheckAllow(a); err != nil {
			return usageError("--allow-global: %v", err)
		}
	}
	return nil
}

// registerAllowGlobal adds --allow-global, the pickle globals a project
// trusts, to a command that scans model files.
func registerAllowGlobal(cmd *cobra.Command, opts *model.Options) {
	cmd.Flags().StringArrayVar(&opts.AllowGlobals, "allow-global", nil,
		"pickle global to judge safe rather than unknown (repeatable): a dotted path such as mypkg.models.Net, or a module and .* such as sklearn.*; dangerous globals cannot be allowed")
}

// defaultVulnDB is where `rampart vulndb import` writes and `rampart scan
// deps` reads the offline vulnerability database by default.
func defaultVulnDB() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join("rampart-data", "vulndb")
	}
	return filepath.Join(dir, "rampart", "vulndb")
}

// vulnFlags are the flags of the commands that scan dependencies: where
// vulnerabilities are looked up, and the organisation's own package names.
type vulnFlags struct {
	dir     string
	online  bool
	private []string
}

func (f *vulnFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "vulndb", defaultVulnDB(), "offline OSV database written by rampart vulndb import (empty: none)")
	fl.BoolVar(&f.online, "osv-api", false, "query the OSV API (api.osv.dev); the offline database answers when the API cannot be reached")
	fl.StringArrayVar(&f.private, "private", nil, "pattern of your own package names (path.Match, repeatable, e.g. acme-* or @acme/*): checked for dependency confusion, never reported as typosquats")
}

// apply sets the vulnerability source and the private names of opts. With
// --osv-api the API answers first and, when it cannot be reached, the
// offline database (if there is one) answers and the report says so.
func (f *vulnFlags) apply(cmd *cobra.Command, opts *deps.Options) error {
	opts.Private = f.private
	offline, err := f.openDB(cmd)
	switch {
	case err != nil:
		return err
	case f.online && offline == nil:
		opts.Vulns = &osv.Client{}
	case f.online:
		opts.Vulns = &osv.Fallback{Online: &osv.Client{}, Offline: offline}
	case offline != nil:
		opts.Vulns = offline
	}
	return nil
}

// openDB opens the offline vulnerability database of --vulndb. No
// database is no error when the flag was left at its default (the scan
// then says vulnerabilities were not checked) or is empty; a database
// named on the command line must open.
func (f *vulnFlags) openDB(cmd *cobra.Command) (*osv.DB, error) {
	if f.dir == "" {
		return nil, nil
	}
	db, err := osv.Open(f.dir)
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, fs.ErrNotExist) && !cmd.Flags().Changed("vulndb"):
		return nil, nil
	}
	return nil, &exitError{code: 2, err: fmt.Errorf("--vulndb: %w", err)}
}

func newScanDepsCmd() *cobra.Command {
	var (
		rf   reportFlags
		vf   vulnFlags
		opts deps.Options
	)
	cmd := &cobra.Command{
		Use:   "deps PATH",
		Short: "Find vulnerable, malicious, unpinned and typosquatted dependencies, and unsafe model loading in Python code",
		Long: `Read every manifest and lockfile under PATH — requirements*.txt, pyproject.toml,
poetry.lock, uv.lock, Pipfile.lock, environment.yml, go.mod, go.sum,
package-lock.json, pnpm-lock.yaml, yarn.lock, Cargo.lock — and report:

  - dependencies not pinned to one exact version, or without hashes where the
    file checks hashes;
  - known vulnerabilities and malicious packages (OSV MAL- records) of the
    pinned versions, from the offline database "rampart vulndb import" loads
    (--vulndb), or from the OSV API with --osv-api (falling back to the
    offline database, with a note in the report, when the API is unreachable);
  - names that imitate popular ML and LLM packages;
  - dependency confusion for the names given with --private: private
    packages resolved from a public registry, looked up through pip's
    --extra-index-url (or several Pipenv sources) without a binding, or npm
    names without a scope that nothing binds to a private registry;
  - unsafe model loading in Python files and notebooks: hub downloads without
    a pinned commit, trust_remote_code=True, torch.load without
    weights_only=True, pickle/joblib loads, numpy allow_pickle, yaml.load.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			if err := vf.apply(cmd, &opts); err != nil {
				return err
			}
			started := time.Now()
			res, err := deps.Scan(cmd.Context(), args[0], opts)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return rf.write(cmd.OutOrStdout(), report("scan deps", args, started, res.Findings, deps.Rules()), format, failOn, gate)
		},
	}
	rf.register(cmd)
	vf.register(cmd)
	cmd.Flags().BoolVar(&opts.SkipCode, "skip-code", false, "do not read Python files and notebooks")
	return cmd
}

func newVulnDBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vulndb",
		Short: "Manage the offline vulnerability database that rampart scan deps reads",
	}
	var dbDir string
	imp := &cobra.Command{
		Use:   "import SOURCE",
		Short: "Load OSV records from a zip or a folder of OSV JSON/YAML files",
		Long: `Load an OSV export into the offline database: a zip (such as osv.dev's
per-ecosystem all.zip) or a folder of OSV JSON or YAML files (such as the PyPA
advisory database). Records are replaced per ecosystem; withdrawn records are
left out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := osv.Import(cmd.Context(), args[0], dbDir)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Imported %d records (%d malicious) from %d files into %s.\n", st.Records, st.Malicious, st.Files, dbDir)
			ecos := make([]string, 0, len(st.Ecosystems))
			for e := range st.Ecosystems {
				ecos = append(ecos, e)
			}
			slices.Sort(ecos)
			for _, e := range ecos {
				fmt.Fprintf(out, "  %-12s %d\n", e, st.Ecosystems[e])
			}
			if st.Withdrawn > 0 || st.Invalid > 0 {
				fmt.Fprintf(out, "Skipped %d withdrawn and %d invalid files.\n", st.Withdrawn, st.Invalid)
				for _, e := range st.Errors {
					fmt.Fprintf(out, "  %s\n", e)
				}
			}
			return nil
		},
	}
	imp.Flags().StringVar(&dbDir, "db", defaultVulnDB(), "database folder")
	cmd.AddCommand(imp)
	return cmd
}

// report makes the report of a scanning command.
func report(command string, targets []string, started time.Time, fs []finding.Finding, rules []finding.Rule) *finding.Report {
	finding.Sort(fs)
	return &finding.Report{
		Tool: "rampart", Version: version.Version, Command: command, Targets: targets,
		Started: started.UTC(), Duration: time.Since(started), Findings: fs, Rules: rules,
	}
}

func newScanSecretsCmd() *cobra.Command {
	var (
		rf            reportFlags
		opts          secrets.Options
		git           bool
		baseline      string
		writeBaseline string
	)
	cmd := &cobra.Command{
		Use:   "secrets PATH",
		Short: "Find credentials in files, or with --git in the whole history",
		Long: `Scan the files under PATH with the secrets detector's rules (LLM provider
keys, cloud credentials, tokens, private keys, passwords), and report
credential files (.env, keys, service-account JSON, .npmrc/.pypirc/.netrc
with tokens) that git tracks or does not ignore. With --git, scan every
commit's added lines in the repository's whole history instead, deleted files
included, naming commit, author, file and line.

Excerpts are redacted; fingerprints identify a finding without the secret.
A line with "rampart:ignore" (or "gitleaks:allow") is not reported.
--baseline FILE suppresses the findings a baseline holds; --write-baseline
FILE writes one from this scan's findings.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			if baseline != "" {
				b, err := secrets.LoadBaseline(baseline)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--baseline: %w", err)}
				}
				opts.Baseline = b
			}
			started := time.Now()
			var fs []finding.Finding
			if git {
				fs, err = secrets.ScanGit(cmd.Context(), args[0], opts)
			} else {
				fs, err = secrets.Scan(cmd.Context(), args[0], opts)
			}
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if writeBaseline != "" {
				if err := secrets.WriteBaseline(writeBaseline, fs); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--write-baseline: %w", err)}
				}
			}
			command := "scan secrets"
			if git {
				command += " --git"
			}
			return rf.write(cmd.OutOrStdout(), report(command, args, started, fs, secrets.Rules()), format, failOn, gate)
		},
	}
	rf.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&git, "git", false, "scan the git history of the repository at PATH (every commit's added lines)")
	f.StringVar(&baseline, "baseline", "", "JSON baseline of accepted findings to suppress")
	f.StringVar(&writeBaseline, "write-baseline", "", "write this scan's findings as a baseline to FILE")
	f.BoolVar(&opts.ShowEmail, "show-email", false, "show commit authors' e-mail addresses in full (masked by default)")
	return cmd
}

func newScanIaCCmd() *cobra.Command {
	var rf reportFlags
	cmd := &cobra.Command{
		Use:   "iac PATH",
		Short: "Check Kubernetes manifests, Dockerfiles, Terraform and docker-compose files",
		Long: `Check the infrastructure code under PATH, each file's kind told by its content:
Kubernetes manifests (privileged or root containers, hostPath and host
network, missing resource limits, literal secrets in env, model servers
exposed through LoadBalancer or NodePort, no NetworkPolicy), Dockerfiles
(unpinned base images, curl|sh, root user, secrets in ENV/ARG, ADD from
URLs), Terraform (public or unencrypted buckets, inference endpoints without
encryption keys or network isolation, IAM wildcards, secrets in variable
defaults) and docker-compose files.

Exit status: 0 no finding at or above --fail-on, 1 at least one, 2 an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, failOn, gate, err := rf.parse()
			if err != nil {
				return err
			}
			started := time.Now()
			fs, err := iac.Scan(cmd.Context(), args[0], iac.Options{})
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return rf.write(cmd.OutOrStdout(), report("scan iac", args, started, fs, iac.Rules()), format, failOn, gate)
		},
	}
	rf.register(cmd)
	return cmd
}

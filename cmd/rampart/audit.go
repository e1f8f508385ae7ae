package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/audit"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and read the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditTailCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var sf storeFlags
	var head string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain; exit non-zero naming the first bad record",
		Long: `Walk the audit log's hash chain and report any edited, deleted, inserted or
reordered record, naming the first one. Exits 0 when the chain holds and 1
when it does not.

Deleting records from the end of the log leaves a shorter chain that still
holds; to catch that, keep the head this command prints (SEQ:HASH) somewhere
else and pass it back with --head.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, cfg, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			// Ship what gateways that died left in their journals, so the
			// chain checked is complete (live gateways ship within 100 ms).
			if n, err := audit.RecoverJournals(ctx, filepath.Join(cfg.DataDir, audit.JournalDirName), st, audit.JournalOptions{}); err != nil {
				return fmt.Errorf("recover audit journals: %w", err)
			} else if n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "recovered %d audit record(s) from the journals of stopped gateways\n", n)
			}
			var rep audit.Report
			if head != "" {
				h, err := audit.ParseHead(head)
				if err != nil {
					return fmt.Errorf("--head: %w", err)
				}
				rep, err = audit.VerifyHead(ctx, st, h)
				if err != nil {
					return err
				}
			} else if rep, err = audit.Verify(ctx, st); err != nil {
				return err
			}
			if rep.OK() {
				fmt.Fprintln(cmd.OutOrStdout(), rep.String())
				fmt.Fprintf(cmd.OutOrStdout(), "head %s\n", rep.Head)
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), "FAILED:", rep.String())
			return &exitError{code: 1, err: errors.New("audit chain broken at seq " + fmt.Sprint(rep.Problem.Seq))}
		},
	}
	sf.register(cmd)
	cmd.Flags().StringVar(&head, "head", "", "expected head SEQ:HASH from an earlier verify, to detect truncation")
	return cmd
}

func newAuditTailCmd() *cobra.Command {
	var sf storeFlags
	var n int
	var follow, asJSON bool
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the last audit records, and with -f new ones as they come",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			err = audit.Tail(ctx, st, n, follow, func(e audit.Entry, r audit.Record) error {
				if asJSON {
					return enc.Encode(struct {
						Seq int64 `json:"seq"`
						audit.Record
					}{e.Seq, r})
				}
				_, err := fmt.Fprintln(out, formatRecord(e, r))
				return err
			})
			if err != nil && ctx.Err() != nil {
				return nil
			}
			return err
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.IntVarP(&n, "lines", "n", 20, "how many of the last records to print")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new records")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per record")
	return cmd
}

func formatRecord(e audit.Entry, r audit.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6d %s %-7s", e.Seq, r.Time.Local().Format(time.DateTime), r.Kind)
	if r.Kind == audit.KindAdmin {
		fmt.Fprintf(&b, " %s %s by %s", r.Action, r.Target, r.Subject)
		if r.Decision != "" && r.Decision != "allow" {
			fmt.Fprintf(&b, " %s: %s", r.Decision, r.Error)
		}
		return b.String()
	}
	fmt.Fprintf(&b, " %s %d %-6s %s key=%s ip=%s", r.ID, r.Status, r.Decision, r.Route, r.KeyID, r.ClientIP)
	if r.Model != "" {
		fmt.Fprintf(&b, " model=%s", r.Model)
	}
	if r.PromptTokens+r.CompletionTokens > 0 {
		fmt.Fprintf(&b, " tokens=%d+%d", r.PromptTokens, r.CompletionTokens)
	}
	fmt.Fprintf(&b, " %.1fms", float64(r.TotalMicros)/1000)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "\n       %s %s %s:%s at %s %q", f.Direction, f.Action, f.Detector, f.RuleID, f.Field, f.Excerpt)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\n       error: %s", r.Error)
	}
	return b.String()
}

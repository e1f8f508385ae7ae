package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/auth"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list, revoke and rotate gateway API keys",
		Long: `Manage the gateway's API keys. A key is shown once when it is created or
rotated; only its SHA-256 digest is stored. Revocation takes effect on the
next request on every gateway replica that shares the store.`,
	}
	cmd.AddCommand(newKeysCreateCmd(), newKeysListCmd(), newKeysRevokeCmd(), newKeysRotateCmd())
	return cmd
}

func newKeysCreateCmd() *cobra.Command {
	var sf storeFlags
	var opts auth.CreateOptions
	var expires time.Duration
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create a key; the key itself is printed alone on the last line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, cfg, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			opts.ExpiresIn = expires
			secret, k, err := auth.NewKeyService(st, nil).Create(ctx, opts)
			if err != nil {
				return err
			}
			if err := auditAdmin(ctx, st, cfg, "key.create", k.ID); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created key %s (%s). It is shown once; store it now.\n", k.ID, k.Name)
			if !k.ExpiresAt.IsZero() {
				fmt.Fprintf(out, "It expires at %s.\n", k.ExpiresAt.Format(time.RFC3339))
			}
			fmt.Fprintln(out, secret)
			return nil
		},
	}
	sf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.Name, "name", "", "a label for the key (required)")
	f.StringVar(&opts.Group, "group", "", "key group that policies and group limits apply to")
	f.StringSliceVar(&opts.Models, "models", nil, "models the key may use, e.g. gpt-4o,gpt-4o-mini* (default all)")
	f.StringSliceVar(&opts.Routes, "routes", nil, "routes the key may use, e.g. /v1/chat/completions (default all)")
	f.DurationVar(&expires, "expires-in", 0, "lifetime, e.g. 720h (default: never expires)")
	f.IntVar(&opts.Limits.RequestsPerMinute, "rpm", 0, "requests per minute (default: the group's or the config's)")
	f.IntVar(&opts.Limits.TokensPerMinute, "tpm", 0, "tokens per minute")
	f.IntVar(&opts.Limits.Concurrent, "concurrent", 0, "concurrent requests")
	f.Float64Var(&opts.Limits.DailyBudgetUSD, "daily-budget", 0, "spend per UTC day in USD")
	f.IntVar(&opts.Limits.MaxTokens, "max-tokens", 0, "cap on max_tokens per request")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newKeysListCmd() *cobra.Command {
	var sf storeFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, _, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := auth.NewKeyService(st, nil).List(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if keys == nil {
					keys = []*auth.Key{}
				}
				return enc.Encode(keys)
			}
			now := time.Now()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tGROUP\tSTATUS\tCREATED\tEXPIRES\tMODELS")
			for _, k := range keys {
				status := k.Status(now)
				if status == auth.StatusRevoking {
					status += " " + k.RevokedAt.Format(time.RFC3339)
				}
				exp := "never"
				if !k.ExpiresAt.IsZero() {
					exp = k.ExpiresAt.Format(time.RFC3339)
				}
				models := "all"
				if len(k.Models) > 0 {
					models = strings.Join(k.Models, ",")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, k.Group, status,
					k.CreatedAt.Format(time.RFC3339), exp, models)
			}
			return tw.Flush()
		},
	}
	sf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func newKeysRevokeCmd() *cobra.Command {
	var sf storeFlags
	cmd := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke a key now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, cfg, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := auth.NewKeyService(st, nil).Revoke(ctx, args[0])
			if err != nil {
				return err
			}
			if err := auditAdmin(ctx, st, cfg, "key.revoke", k.ID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked key %s (%s) at %s.\n", k.ID, k.Name, k.RevokedAt.Format(time.RFC3339))
			return nil
		},
	}
	sf.register(cmd)
	return cmd
}

func newKeysRotateCmd() *cobra.Command {
	var sf storeFlags
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate KEY_ID",
		Short: "Replace a key with a new one; the new key is printed alone on the last line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, cfg, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			secret, k, err := auth.NewKeyService(st, nil).Rotate(ctx, args[0], grace)
			if err != nil {
				return err
			}
			if err := auditAdmin(ctx, st, cfg, "key.rotate", args[0]); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			when := "now"
			if grace > 0 {
				when = "in " + grace.String()
			}
			fmt.Fprintf(out, "Rotated key %s into %s; the old key stops working %s. The new key is shown once.\n", args[0], k.ID, when)
			fmt.Fprintln(out, secret)
			return nil
		},
	}
	sf.register(cmd)
	cmd.Flags().DurationVar(&grace, "grace", 0, "keep the old key working this long, e.g. 24h (default: revoke now)")
	return cmd
}

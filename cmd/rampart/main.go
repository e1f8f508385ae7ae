// Command rampart secures an LLM system across its seven attack surfaces:
// `rampart scan model` finds code execution hidden in model files,
// `rampart sbom` writes a repository's CycloneDX AI bill of materials,
// `rampart model` signs, verifies and encrypts model artifacts (with keys
// from `rampart keygen`), `rampart registry` promotes model versions with
// two-person approval, `rampart serve` runs the security gateway,
// `rampart keys` manages its API keys, `rampart audit` verifies its
// tamper-evident log, `rampart config` checks configurations, and
// `rampart check` and `rampart eval` run and measure the detectors.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/detect"

	// The built-in detector families register themselves with
	// detect.Default; `rampart check` and `rampart eval` find them there.
	_ "github.com/rampartsec/rampart/detect/builtin"

	// vault: secret references (HashiCorp Vault KV v2) for the gateway's
	// upstream keys and for --kek.
	_ "github.com/rampartsec/rampart/secretref/vault"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGPIPE)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(os.Stderr, "rampart:", ee.err)
			}
		} else {
			fmt.Fprintln(os.Stderr, "rampart:", err)
		}
		os.Exit(code)
	}
}

// Command groups, one per attack-surface layer (DESIGN.md).
const (
	groupScan    = "scan"
	groupModel   = "model"
	groupRuntime = "runtime"
	groupInfra   = "infra"
	groupGeneral = "general"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "rampart",
		Short: "Rampart secures LLM systems in production, layer by layer",
		Long: `Rampart secures an LLM system across its seven attack surfaces: training data,
model weights, the inference API, output, infrastructure, the supply chain and
the humans who run it.

Start the gateway on the embedded defaults:

  OPENAI_API_KEY=sk-... rampart serve
  rampart keys create --name demo      # prints a key for clients

then point any OpenAI SDK's base URL at http://127.0.0.1:8080/v1.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddGroup(
		&cobra.Group{ID: groupScan, Title: "Scanning static artifacts:"},
		&cobra.Group{ID: groupModel, Title: "Layer 2 · model weights:"},
		&cobra.Group{ID: groupRuntime, Title: "Layers 3–4 · inference API and output (the gateway):"},
		&cobra.Group{ID: groupInfra, Title: "Layers 5 and 7 · infrastructure and the humans who run it:"},
		&cobra.Group{ID: groupGeneral, Title: "Configuration and information:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	add(groupScan, newScanCmd(), newSBOMCmd(), newVulnDBCmd())
	add(groupModel, newModelCmd(), newKeygenCmd())
	add(groupRuntime, newServeCmd(), newCheckCmd(detect.Default), newEvalCmd(detect.Default))
	add(groupInfra, newKeysCmd(), newAuditCmd(), newRegistryCmd())
	add(groupGeneral, newConfigCmd(), newVersionCmd())
	root.SetHelpCommandGroupID(groupGeneral)
	root.SetCompletionCommandGroupID(groupGeneral)
	return root
}

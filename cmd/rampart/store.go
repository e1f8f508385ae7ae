package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/server"
	"github.com/rampartsec/rampart/store"
)

// storeFlags select the store the way `rampart serve` would find it.
type storeFlags struct {
	config  string
	dataDir string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "config", "", "configuration file whose store to use")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "", "data directory of the SQLite store (default ./rampart-data)")
}

// open opens the store and returns the configuration it came from.
func (f *storeFlags) open(ctx context.Context) (store.Store, *config.Config, error) {
	cfg, err := server.LoadConfig(f.config, "", f.dataDir)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.Store, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	return st, cfg, nil
}

// auditAdmin appends an admin action to the audit log and waits until it
// is durable.
func auditAdmin(ctx context.Context, st store.Store, cfg *config.Config, action, target string) error {
	if cfg.Audit.Disabled {
		return nil
	}
	w := audit.NewWriter(st, audit.WriterOptions{})
	err := w.Append(ctx, audit.AdminRecord(action, target, "cli"))
	cerr := w.Close(ctx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return cerr
}

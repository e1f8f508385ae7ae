package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/detect"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a configuration file or print the embedded default",
	}
	cmd.AddCommand(newConfigCheckCmd(), newConfigDefaultCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	var print bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file; errors name the line and the key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			// Build every detector, so that bad options are caught now.
			for name, d := range cfg.Detectors {
				if _, err := detect.Default.New(d.Type, d.Options); err != nil {
					return &exitError{code: 1, err: fmt.Errorf("%s: detectors.%s: %w", args[0], name, err)}
				}
			}
			if print {
				b, err := cfg.Marshal()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&print, "print", false, "print the effective configuration, defaults applied")
	return cmd
}

func newConfigDefaultCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "default",
		Short: "Print the embedded default configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(config.DefaultYAML())
			return err
		},
	}
}

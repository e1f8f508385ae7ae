package main

import (
	"github.com/spf13/cobra"

	"github.com/rampartsec/rampart/server"
)

func newServeCmd() *cobra.Command {
	var opts server.Options
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the OpenAI-compatible security gateway",
		Long: `Run the OpenAI-compatible security gateway. Without --config it runs the
embedded default configuration (print it with "rampart config default"):
SQLite under ./rampart-data, in-process limits, and one upstream taken from
OPENAI_BASE_URL (default https://api.openai.com/v1) and OPENAI_API_KEY.

SIGHUP reloads the configuration file without dropping requests;
SIGINT/SIGTERM drain in-flight requests and stop.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return server.Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ConfigPath, "config", "", "configuration file (default: the embedded default)")
	f.StringVar(&opts.Listen, "listen", "", "listen address, overrides server.listen (default 127.0.0.1:8080)")
	f.StringVar(&opts.DataDir, "data-dir", "", "data directory, overrides data_dir (default ./rampart-data)")
	return cmd
}

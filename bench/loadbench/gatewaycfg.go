package main

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
)

// upstreamKeyEnv is the environment variable the gateway reads the fake
// upstream's credential from.
const upstreamKeyEnv = "RAMPART_BENCH_UPSTREAM_KEY"

// highLimit is a limit no benchmark run reaches: the limiter still runs
// every check of the default configuration, but none refuses.
const highLimit = 1_000_000_000

// gatewayConfig turns the embedded default configuration (defaultYAML, as
// `rampart config default` prints it) into the benchmark's: the same
// detectors, policies, audit and log settings, with its one upstream
// pointed at upstreamURL (credential from upstreamKeyEnv), a free loopback
// port, dataDir, and limits too high to refuse anything. noAudit turns the
// audit log off, for diagnosis only: it is not the default policy.
func gatewayConfig(defaultYAML []byte, upstreamURL, dataDir string, noAudit bool) ([]byte, error) {
	var cfg map[string]any
	if err := yaml.Unmarshal(defaultYAML, &cfg); err != nil {
		return nil, fmt.Errorf("parse the default configuration: %w", err)
	}
	server, ok := cfg["server"].(map[string]any)
	if !ok {
		return nil, errors.New("default configuration: no server section")
	}
	server["listen"] = "127.0.0.1:0"
	cfg["data_dir"] = dataDir

	ups, ok := cfg["upstreams"].([]any)
	if !ok || len(ups) != 1 {
		return nil, fmt.Errorf("default configuration: want exactly one upstream, found %v", cfg["upstreams"])
	}
	up, ok := ups[0].(map[string]any)
	if !ok {
		return nil, errors.New("default configuration: upstreams[0] is not a mapping")
	}
	up["base_url"] = upstreamURL + "/v1"
	up["api_key"] = "env:" + upstreamKeyEnv

	limits, ok := cfg["limits"].(map[string]any)
	if !ok {
		return nil, errors.New("default configuration: no limits section")
	}
	for _, who := range []string{"key", "ip"} {
		set, ok := limits[who].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("default configuration: no limits.%s section", who)
		}
		for k := range set {
			switch k {
			case "requests_per_minute", "tokens_per_minute", "concurrent", "daily_budget_usd":
				set[k] = highLimit
			}
		}
	}
	if noAudit {
		a, ok := cfg["audit"].(map[string]any)
		if !ok {
			a = map[string]any{}
			cfg["audit"] = a
		}
		a["disabled"] = true
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("write the gateway configuration: %w", err)
	}
	return out, nil
}

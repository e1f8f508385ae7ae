// Command gatewayprof runs the gateway exactly as `rampart serve --config
// FILE` does (it calls server.Run with the same options) while recording a
// Go CPU profile of the whole process, written when it stops on SIGTERM or
// SIGINT. The load benchmark uses it with -cpuprofile to find the
// gateway's hot spots; read the profile with
//
//	go tool pprof -top gatewayprof PROFILE
//
// Usage:
//
//	gatewayprof -config FILE -cpuprofile PROFILE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/rampartsec/rampart/server"
)

func main() {
	cfg := flag.String("config", "", "configuration file (required)")
	profile := flag.String("cpuprofile", "", "file to write the CPU profile to (required)")
	flag.Parse()
	if err := run(*cfg, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "gatewayprof:", err)
		os.Exit(1)
	}
}

func run(cfg, profile string) (err error) {
	if cfg == "" || profile == "" {
		return errors.New("-config and -cpuprofile are required")
	}
	f, err := os.Create(profile)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write profile: %w", cerr)
		}
	}()
	if err := pprof.StartCPUProfile(f); err != nil {
		return fmt.Errorf("start profile: %w", err)
	}
	defer pprof.StopCPUProfile()
	// server.Run returns after draining on SIGTERM/SIGINT.
	return server.Run(context.Background(), server.Options{ConfigPath: cfg})
}

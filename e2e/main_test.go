package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// moduleRoot is the repository's root folder.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rampart-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if moduleRoot, err = findModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	binaryPath = filepath.Join(dir, "rampart")
	workDir = filepath.Join(dir, "cwd")
	if err := os.Mkdir(workDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// workDir is the working directory of every rampart process, so that a
// default relative path (./rampart-data) never lands in the source tree.
var workDir string

var (
	binaryPath string
	buildOnce  sync.Once
	buildErr   error
)

// rampartBinary returns the rampart executable, building it on first use
// (once for all tests; a -run that selects none builds nothing).
func rampartBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { buildErr = build(binaryPath) })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binaryPath
}

// build compiles ./cmd/rampart into out, with the race detector when the
// tests have it, so that races in the real server fail the tests too.
func build(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/rampart")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// findModuleRoot walks up from the working directory (the package's
// folder under go test) to the folder of go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

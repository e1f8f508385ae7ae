package sqlite_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rampartsec/rampart/audit"
	"github.com/rampartsec/rampart/auth"
	"github.com/rampartsec/rampart/store/sqlite"
)

// Environment of a helper process (a re-run of this test binary).
const (
	envHelper = "RAMPART_SQLITE_HELPER" // what to do: "append" or "create-key"
	envPath   = "RAMPART_SQLITE_PATH"
	envCount  = "RAMPART_SQLITE_COUNT"
	envName   = "RAMPART_SQLITE_NAME"
)

// TestHelperProcess is not a test: it is the body of the helper processes
// the tests below start.
func TestHelperProcess(t *testing.T) {
	what := os.Getenv(envHelper)
	if what == "" {
		return // not a test: the body of a helper process other tests start
	}
	if err := helper(what); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(what string) error {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, os.Getenv(envPath))
	if err != nil {
		return err
	}
	defer s.Close()
	name := os.Getenv(envName)
	switch what {
	case "append":
		n, _ := strconv.Atoi(os.Getenv(envCount))
		for i := range n {
			p := fmt.Appendf(nil, `{"proc":%q,"i":%d}`, name, i)
			if _, err := s.AppendAudit(ctx, [][]byte{p, p}); err != nil {
				return err
			}
		}
		return nil
	case "create-key":
		h := sha256.Sum256([]byte(name))
		return s.CreateKey(ctx, &auth.Key{ID: name, Prefix: "rk_" + name, Hash: h[:]})
	}
	return fmt.Errorf("unknown helper %q", what)
}

func startHelper(t *testing.T, what, path, name string, count int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), envHelper+"="+what, envPath+"="+path, envName+"="+name, envCount+"="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestMultiProcessAppend starts several processes that open a new file at
// the same moment and append to the audit chain concurrently (as two
// gateway replicas and the CLI on one host would): every Open must succeed
// and the result must be one unbroken chain holding every entry.
func TestMultiProcessAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	const procs, perProc = 4, 150
	var cmds []*exec.Cmd
	for i := range procs {
		cmds = append(cmds, startHelper(t, "append", path, fmt.Sprintf("p%d", i), perProc))
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper %v: %v", c.Args, err)
		}
	}
	s := openAt(t, path)
	rep, err := audit.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != procs*perProc*2 {
		t.Fatalf("after %d processes appended %d entries each: %v", procs, perProc*2, rep)
	}
	counts := map[string]int{}
	if err := s.ScanAudit(context.Background(), 1, func(e audit.Entry) error {
		var rec struct{ Proc string }
		if err := json.Unmarshal(e.Payload, &rec); err != nil {
			return err
		}
		counts[rec.Proc]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range procs {
		if n := counts[fmt.Sprintf("p%d", i)]; n != perProc*2 {
			t.Errorf("process p%d has %d entries in the chain, want %d", i, n, perProc*2)
		}
	}
}

// TestMultiProcessVisibility checks that a write by another process is
// seen by this one's next read, through a pool whose connections were
// open (and idle) before the write.
func TestMultiProcessVisibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	s := openAt(t, path)
	for range 3 { // warm the pool
		if _, err := s.KeyByID(ctx, "key_other"); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("before the other process wrote: err = %v, want ErrNotFound", err)
		}
	}
	if err := startHelper(t, "create-key", path, "key_other", 0).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := startHelper(t, "append", path, "other", 3).Wait(); err != nil {
		t.Fatal(err)
	}
	k, err := s.KeyByID(ctx, "key_other")
	if err != nil {
		t.Fatalf("key created by another process not visible on the next read: %v", err)
	}
	if k.Prefix != "rk_key_other" {
		t.Fatalf("prefix %q", k.Prefix)
	}
	head, err := audit.CurrentHead(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != 6 {
		t.Fatalf("audit head seq %d after another process appended 6 entries", head.Seq)
	}
	// And this process appends after them, onto the same chain.
	if _, err := s.AppendAudit(ctx, [][]byte{[]byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := audit.Verify(ctx, s); err != nil || !rep.OK() || rep.Records != 7 {
		t.Fatalf("Verify = %v, %v", rep, err)
	}
}
